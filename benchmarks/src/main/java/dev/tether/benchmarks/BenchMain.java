package dev.tether.benchmarks;

import dev.tether.benchmarks.internal.Suite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Runs the side-by-side benchmarks and writes {@code latest.json} and {@code latest.md}.
 *
 * <pre>
 * BenchMain [--quick] [--out DIR] [--only PHASE,...] [--seed N] [--baseline CHECKOUT]
 * </pre>
 *
 * <p>The full run is the headline; {@code --quick} is a smoke test, and both reports say so.
 *
 * <p>Every contender runs in a JVM of its own against the same broker (Mosquitto when installed,
 * else an embedded Moquette) on loopback; the default output folder is {@value #DEFAULT_OUT}.
 * Exit code 0 when both reports were written (missed targets are reported, not failed), 1 when the
 * run could not complete, 2 on bad arguments.
 */
public final class BenchMain {

    /** Default output folder, relative to the working directory. */
    public static final String DEFAULT_OUT = "benchmarks/results";

    private BenchMain() {
    }

    /**
     * @param args {@code --quick}, {@code --out DIR}, {@code --only} some of {@link Suite#PHASES} separated by commas,
     *             {@code --seed N} (the contenders' order, as a report printed it), {@code --baseline CHECKOUT} (another
     *             checkout of Tether, its benchmarks built, in the reconnect rounds beside this one), {@code --help}
     */
    public static void main(String[] args) {
        boolean quick = false;
        Path out = Paths.get(DEFAULT_OUT);
        List<String> phases = Suite.PHASES;
        Long seed = null;
        Path baseline = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("bench: --out needs a folder");
                        System.exit(2);
                    }
                    out = Paths.get(args[++i]);
                }
                case "--only" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("bench: --only needs phases, some of " + Suite.PHASES);
                        System.exit(2);
                    }
                    phases = List.of(args[++i].split(","));
                    if (!Suite.PHASES.containsAll(phases)) {
                        System.err.println("bench: --only takes phases from " + Suite.PHASES + ", not " + phases);
                        System.exit(2);
                    }
                }
                case "--seed" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("bench: --seed needs a number (the order seed a report printed)");
                        System.exit(2);
                    }
                    try {
                        seed = Long.parseLong(args[++i]);
                    } catch (NumberFormatException e) {
                        System.err.println("bench: --seed takes a whole number, not " + args[i]);
                        System.exit(2);
                    }
                }
                case "--baseline" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("bench: --baseline needs the root folder of another checkout of Tether, its benchmarks built");
                        System.exit(2);
                    }
                    baseline = Paths.get(args[++i]);
                }
                case "--help", "-h" -> {
                    System.out.println("usage: bench [--quick] [--out DIR] [--only PHASE,...] [--seed N] [--baseline CHECKOUT]   (default DIR " + DEFAULT_OUT
                            + "; phases " + Suite.PHASES + ", all by default)");
                    return;
                }
                default -> {
                    System.err.println("bench: unknown argument " + args[i]
                            + "; usage: bench [--quick] [--out DIR] [--only PHASE,...] [--seed N] [--baseline CHECKOUT]");
                    System.exit(2);
                }
            }
        }
        try {
            Path classes = Paths.get(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path logs = Files.createTempDirectory("tether-bench-logs");
            long started = System.nanoTime();
            Suite suite = seed == null ? new Suite(quick, classes, logs, phases)
                    : new Suite(quick, classes, logs, phases, seed);
            if (baseline != null) {
                suite.baseline(baseline);
            }
            String command = "./tether bench" + (quick ? " --quick" : "")
                    + (phases.equals(Suite.PHASES) ? "" : " --only " + String.join(",", phases))
                    + (baseline == null ? "" : " --baseline " + baseline.getFileName());
            suite.run(System.err).write(out, command);
            System.err.println("bench: wrote " + out.resolve("latest.json") + " and " + out.resolve("latest.md")
                    + " (contender logs in " + logs + ")");
            System.err.printf("bench: the %s run took %d s%n", quick ? "quick (smoke test)" : "full",
                    java.time.Duration.ofNanos(System.nanoTime() - started).toSeconds());
            System.exit(0);
        } catch (Exception e) {
            System.err.println("bench: the run failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }
}
