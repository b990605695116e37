package dev.tether.benchmarks.internal;

import dev.tether.testkit.FaultProxy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the suite: the broker and the echo server, then rounds in which every contender runs once
 * in its own JVM in random order, then the resilience runs; collects per-round values.
 */
public final class Suite {

    private final Settings settings;
    private final Path classes;
    private final Map<String, String> classpaths = new HashMap<>();
    private final boolean pin;
    private final Path logs;
    private final Random random;
    private final long seed;
    /** round -> contender id -> key -> value */
    private final List<Map<String, Map<String, Double>>> rounds = new ArrayList<>();
    private final Map<String, Double> resilience = new HashMap<>();
    /** round -> contender id -> key -> value, for the side-by-side reconnect runs */
    private final List<Map<String, Map<String, Double>>> reconnects = new ArrayList<>();
    /** connection count -> one entry per run -> contender id -> key -> value */
    private final Map<Integer, List<Map<String, Map<String, Double>>>> idle = new LinkedHashMap<>();
    /** contender id -> key -> value */
    private final Map<String, Map<String, Double>> slow = new LinkedHashMap<>();
    private final List<String> failures = new ArrayList<>();
    private String broker = "";
    private String roundsStopped = "";
    private final List<String> phases;
    /** Another build of Tether in the reconnect rounds (see {@link #baseline}), or null. */
    private @org.jspecify.annotations.Nullable Contender baseline;

    /**
     * @param quick   the quick suite
     * @param classes the benchmarks' compiled classes; the class path files are in {@code ../classpath}
     * @param logs    where contender logs go
     * @throws IOException if a class path file is missing
     */
    public Suite(boolean quick, Path classes, Path logs) throws IOException {
        this(quick, classes, logs, PHASES);
    }

    /** The phases of a run, in order. */
    public static final List<String> PHASES = List.of("rounds", "reconnect", "resilience", "storm", "idle", "slowconsumer",
            "wsserver");

    /**
     * @param quick   the quick suite
     * @param classes the benchmarks' compiled classes; the class path files are in {@code ../classpath}
     * @param logs    where contender logs go
     * @param phases  the phases to run, a subset of {@link #PHASES}
     * @throws IOException if a class path file is missing
     */
    public Suite(boolean quick, Path classes, Path logs, List<String> phases) throws IOException {
        this(quick, classes, logs, phases, System.nanoTime());
    }

    /**
     * @param quick   the quick suite
     * @param classes the benchmarks' compiled classes; the class path files are in {@code ../classpath}
     * @param logs    where contender logs go
     * @param phases  the phases to run, a subset of {@link #PHASES}
     * @param seed    the seed of the contenders' order in each round (printed in the report, so a run's
     *                order can be repeated)
     * @throws IOException if a class path file is missing
     */
    public Suite(boolean quick, Path classes, Path logs, List<String> phases, long seed) throws IOException {
        for (String p : phases) {
            if (!PHASES.contains(p)) {
                throw new IllegalArgumentException("phase must be one of " + PHASES + ", but was " + p);
            }
        }
        this.phases = List.copyOf(phases);
        this.settings = quick ? Settings.quickRun() : Settings.full();
        this.classes = classes;
        this.logs = logs;
        Path dir = classes.getParent().resolve("classpath");
        for (String name : List.of("tether", "hivemq", "paho")) {
            Path file = dir.resolve(name + ".txt");
            if (!Files.isRegularFile(file)) {
                throw new IOException("missing class path file " + file + "; build the benchmarks module first");
            }
            classpaths.put(name, classes + java.io.File.pathSeparator
                    + snapshot(Files.readString(file, StandardCharsets.UTF_8).trim(), logs.resolve("jars")));
        }
        this.pin = Runtime.getRuntime().availableProcessors() >= 2 && onPath("taskset");
        this.seed = seed;
        this.random = new Random(seed);
    }

    /**
     * Adds another build of Tether to the side-by-side reconnect rounds: a checkout of this project whose benchmarks
     * module is built ({@code mvn -q -DskipTests package -pl benchmarks -am} in it). Its JVMs run the same driver
     * against the same proxy and broker, in random order with the others, so a change worth less than the spread
     * between runs can be shown as a ratio in one run.
     *
     * @param root the other checkout's root folder
     * @return this suite
     * @throws IOException if that checkout's benchmarks are not built
     */
    public Suite baseline(Path root) throws IOException {
        Path other = root.resolve("benchmarks").resolve("target");
        Path file = other.resolve("classpath").resolve("tether.txt");
        Path otherClasses = other.resolve("classes");
        if (!Files.isRegularFile(file) || !Files.isDirectory(otherClasses)) {
            throw new IOException("no built benchmarks in " + root + " (missing " + file + " or " + otherClasses
                    + "): run `mvn -q -DskipTests package -pl benchmarks -am` in that checkout first");
        }
        classpaths.put(Contender.BASELINE_CLASSPATH, otherClasses + java.io.File.pathSeparator
                + snapshot(Files.readString(file, StandardCharsets.UTF_8).trim(), logs.resolve("jars-baseline")));
        baseline = Contender.baseline("Tether baseline " + describe(root));
        return this;
    }

    /** @return the checkout's commit (short hash, "+changes" when its tree differs), or its folder's name */
    private static String describe(Path root) {
        try {
            Process git = new ProcessBuilder("git", "-C", root.toString(), "describe", "--always", "--dirty=+changes")
                    .redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (git.waitFor() == 0 && !out.isEmpty()) {
                return out;
            }
        } catch (IOException e) {
            // no git: the folder's name says which build it was
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Path name = root.toAbsolutePath().normalize().getFileName();
        return name == null ? root.toString() : name.toString();
    }

    /**
     * Runs everything.
     *
     * @param progress where progress lines go
     * @return the report
     * @throws Exception if the broker or the echo server cannot start
     */
    public Report run(java.io.PrintStream progress) throws Exception {
        long started = System.nanoTime();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (Broker b = Broker.start(settings.window(), pin);
             EchoProcess echo = EchoProcess.start(java, classpaths.get("tether"), pin, logs.resolve("echo-server.log"))) {
            broker = b.description();
            progress.println("bench: broker " + broker + " on 127.0.0.1:" + b.port() + "; "
                    + settings.rounds() + " rounds" + (settings.quick() ? " (quick: a smoke test, not the headline)" : "")
                    + "; order seed " + seed);
            List<String> wsArgs = List.of("url=" + echo.url(), "payload=" + settings.wsPayload(),
                    "window=" + settings.window(), "warmup_ms=" + settings.warmup().toMillis(),
                    "warmup_max_ms=" + settings.wsWarmupMax().toMillis(), "measure_ms=" + settings.measure().toMillis(),
                    "server_pid=" + echo.pid());
            if (phases.contains("reconnect")) {
                try {
                    int warm = ProxyWarmup.run(b.port());
                    progress.printf("bench: the fault proxy ran %d warm-up reconnects (%d s)%n", warm,
                            Duration.ofNanos(System.nanoTime() - started).toSeconds());
                } catch (IOException e) {
                    failures.add("reconnect: the fault proxy's warm-up failed: " + e.getMessage());
                }
                for (int r = 0; r < settings.reconnectRounds(); r++) {
                    List<Contender> pair = new ArrayList<>(Contender.mqttContenders(true).subList(0, 2));
                    pair.add(Contender.FLOOR);
                    if (baseline != null) {
                        pair.add(baseline);
                    }
                    Collections.shuffle(pair, random);
                    Map<String, Map<String, Double>> round = new LinkedHashMap<>();
                    for (Contender c : pair) {
                        round.put(c.id(), reconnect(java, c, b.port(), r));
                    }
                    reconnects.add(round);
                }
                progress.printf("bench: side-by-side reconnect done (%d s)%n",
                        Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            if (phases.contains("resilience")) {
                Contender res = new Contender("resilience", "Tether", "tether", List.of("role=resilience"));
                resilience.putAll(runOne(java, res, List.of("host=127.0.0.1", "port=" + b.port(),
                        "trials=" + settings.trials()), 0));
                progress.printf("bench: resilience done (%d s)%n", Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            if (phases.contains("storm")) {
                resilience.putAll(runOne(java, new Contender("storm", "Tether", "tether", List.of("role=storm")),
                        List.of("host=127.0.0.1", "port=" + b.port(), "clients=" + settings.stormClients()), 0));
                progress.printf("bench: real-socket reconnect storm done (%d s)%n",
                        Duration.ofNanos(System.nanoTime() - started).toSeconds());
                List<String> simArgs = new ArrayList<>(List.of("sizes=" + join(settings.stormSizes()),
                        "refusals=RATE_EXCEEDED_0X9F,SERVER_BUSY_0X89,CONNECTION_REFUSED", "xclients=" + settings.stormClients()));
                String xcheck = crossCheckArgument(resilience);
                if (!xcheck.isEmpty()) {
                    simArgs.add("xcheck=" + xcheck);
                }
                resilience.putAll(runOne(java, new Contender("stormsim", "Tether", "tether", List.of("role=stormsim")),
                        simArgs, 0));
                progress.printf("bench: simulated reconnect storms done (%d s)%n",
                        Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            for (int connections : phases.contains("idle") ? settings.idle() : List.<Integer>of()) {
                List<Map<String, Map<String, Double>>> runs = new ArrayList<>();
                for (int run = 0; run < settings.idleRuns(); run++) {
                    List<Contender> idlers = new ArrayList<>(Contender.mqttContenders(true).subList(0, 2));
                    Collections.shuffle(idlers, random);
                    Map<String, Map<String, Double>> byContender = new LinkedHashMap<>();
                    for (Contender c : idlers) {
                        List<String> args = List.of("role=idle", c.args().get(1), "host=127.0.0.1", "port=" + b.port(),
                                "connections=" + connections);
                        byContender.put(c.id(), runOne(java, new Contender(c.id(), c.label(), c.classpath(), args),
                                List.of(), connections + "-" + run));
                    }
                    runs.add(byContender);
                }
                idle.put(connections, runs);
            }
            if (phases.contains("idle")) {
                progress.printf("bench: idle connections done (%d s)%n",
                        Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            if (phases.contains("slowconsumer")) {
                List<Contender> consumers = new ArrayList<>(Contender.mqttContenders(true).subList(0, 2));
                Collections.shuffle(consumers, random);
                for (Contender c : consumers) {
                    slow.put(c.id(), slowConsumer(java, c, b.port()));
                }
                progress.printf("bench: slow consumer done (%d s)%n", Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            if (phases.contains("wsserver")) {
                resilience.putAll(serverSessions(java));
                progress.printf("bench: WebSocket server sessions done (%d s)%n",
                        Duration.ofNanos(System.nanoTime() - started).toSeconds());
            }
            // The rounds come last: as many as the time budget leaves room for, at least minRounds, at most rounds.
            long lastRound = 0;
            for (int r = 0; phases.contains("rounds") && r < settings.rounds(); r++) {
                long elapsed = System.nanoTime() - started;
                if (r >= settings.minRounds() && elapsed + lastRound * 11 / 10 > settings.budget().toNanos()) {
                    roundsStopped = "stopped after " + r + " of " + settings.rounds() + " rounds: another one would "
                            + "have ended the run after the budget of " + settings.budget().toSeconds() + " s";
                    progress.println("bench: " + roundsStopped);
                    break;
                }
                long roundStarted = System.nanoTime();
                List<Job> jobs = new ArrayList<>();
                for (Contender c : Contender.mqttContenders(settings.quick())) {
                    List<Integer> sizes = new ArrayList<>(settings.payloadsFor(c.id(), false));
                    settings.payloadsFor(c.id(), true).stream().filter(x -> !sizes.contains(x)).forEach(sizes::add);
                    jobs.add(new Job(c, List.of("host=127.0.0.1", "port=" + b.port(), "payloads=" + join(sizes),
                            "qos0_payloads=" + join(settings.payloadsFor(c.id(), true)), "window=" + settings.window(),
                            "warmup_ms=" + settings.warmup().toMillis(), "warmup_max_ms=" + settings.warmupMax().toMillis(),
                            "measure_ms=" + settings.measure().toMillis(), "latency_rate=" + settings.latencyRate(),
                            "latency_ms=" + settings.latency().toMillis(), "broker_pid=" + b.pid())));
                }
                for (Contender c : Contender.webSocketContenders()) {
                    jobs.add(new Job(c, wsArgs));
                }
                Collections.shuffle(jobs, random);
                Map<String, Map<String, Double>> round = new LinkedHashMap<>();
                for (Job job : jobs) {
                    round.put(job.contender().id(), runOne(java, job.contender(), job.args(), r));
                }
                rounds.add(round);
                lastRound = System.nanoTime() - roundStarted;
                StringBuilder order = new StringBuilder();
                jobs.forEach(j -> order.append(order.length() == 0 ? "" : ", ").append(j.contender().id()));
                progress.printf("bench: round %d/%d done (%d s; order %s)%n", r + 1, settings.rounds(),
                        Duration.ofNanos(System.nanoTime() - started).toSeconds(), order);
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        return Report.build(settings, rounds, reconnects, resilience, idle, slow, failures, broker, pin, seed, took,
                roundsStopped, baseline == null ? null : baseline.label());
    }

    /**
     * One contender JVM of the side-by-side reconnect runs ({@link ReconnectWorkload}), through a fault proxy in
     * this JVM: on each {@code CUT} line the proxy resets every connection and the time is noted; the
     * contender's {@code LOST} and {@code BACK} times give detection and the overhead beyond the backoff.
     *
     * @return reconnect.overhead_ms and reconnect.detect_ms (medians over the trials), reconnect.trials
     */
    private Map<String, Double> reconnect(String java, Contender c, int brokerPort, int round) {
        Path log = logs.resolve("reconnect-" + round + "-" + c.id() + ".log");
        Map<Integer, Long> cuts = new ConcurrentHashMap<>();
        List<Double> overhead = Collections.synchronizedList(new ArrayList<>());
        List<Double> detect = Collections.synchronizedList(new ArrayList<>());
        long launched = System.nanoTime();
        long[] clock = {Long.MIN_VALUE};
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", brokerPort)) {
            List<String> args = List.of("role=reconnect", c.args().get(1), "host=127.0.0.1", "port=" + proxy.port(),
                    "trials=" + (ReconnectWorkload.WARM_CUTS + settings.reconnectTrials()), "backoff_ms=" + ReconnectWorkload.BACKOFF.toMillis());
            Map<String, Double> result = new HashMap<>(ContenderProcess.run(java, classpaths.get(c.classpath()), pin, args,
                    Duration.ofMinutes(2), log, line -> {
                        String[] p = line.trim().split(" ");
                        if (p.length == 2 && p[0].equals(ReconnectWorkload.CUT_LINE)) {
                            cuts.put(Integer.parseInt(p[1]), System.nanoTime());
                            proxy.cutAll();
                        } else if (p.length == 2 && p[0].equals(ReconnectWorkload.CLOCK_LINE)) {
                            clock[0] = Long.parseLong(p[1]);
                        } else if (p.length == 3 && (p[0].equals(ReconnectWorkload.LOST_LINE)
                                || p[0].equals(ReconnectWorkload.BACK_LINE)) && cuts.containsKey(Integer.parseInt(p[1]))
                                && Integer.parseInt(p[1]) >= ReconnectWorkload.WARM_CUTS) {
                            long cut = cuts.get(Integer.parseInt(p[1]));
                            double ms = (Long.parseLong(p[2]) - cut) / 1e6;
                            if (p[0].equals(ReconnectWorkload.LOST_LINE)) {
                                detect.add(ms);
                            } else if (p[0].equals(ReconnectWorkload.BACK_LINE)) {
                                overhead.add(ms - ReconnectWorkload.BACKOFF.toMillis());
                            }
                        }
                    }));
            if (clock[0] < launched || clock[0] > System.nanoTime()) {
                failures.add("reconnect " + round + ", " + c.label() + ": the contender's clock (" + clock[0]
                        + ") is not this process's monotonic clock; its times are not used");
                return Map.of();
            }
            result.put("reconnect.overhead_ms", Stats.median(overhead));
            result.put("reconnect.detect_ms", Stats.median(detect));
            return result;
        } catch (IOException | RuntimeException e) {
            failures.add("reconnect " + round + ", " + c.label() + ": " + e.getMessage());
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted during the reconnect runs");
            return Map.of();
        }
    }

    /** One contender JVM of a round and its run arguments. */
    private record Job(Contender contender, List<String> args) {
    }

    private Map<String, Double> runOne(String java, Contender c, List<String> extra, int round) {
        return runOne(java, c, extra, Integer.toString(round));
    }

    /** @param tag names the log file together with the role and the contender (a round, a count and run) */
    private Map<String, Double> runOne(String java, Contender c, List<String> extra, String tag) {
        List<String> args = new ArrayList<>(c.args());
        args.addAll(extra);
        Path log = logs.resolve(c.args().get(0).substring(5) + "-" + tag + "-" + c.id() + ".log");
        try {
            return ContenderProcess.run(java, classpaths.get(c.classpath()), pin, args,
                    settings.contenderTimeout(), log);
        } catch (IOException e) {
            failures.add(c.args().get(0).substring(5) + " " + tag + ", " + c.label() + " (" + c.id() + "): "
                    + e.getMessage());
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted during " + c.id());
            return Map.of();
        }
    }

    /** A Tether WebSocket server in its own JVM; the sessions are opened from here by plain Reactor Netty clients. */
    private Map<String, Double> serverSessions(String java) {
        int sessions = settings.serverSessions();
        Path log = logs.resolve("wsserver-" + sessions + ".log");
        SessionOpener[] opener = new SessionOpener[1];
        try {
            return ContenderProcess.run(java, classpaths.get("tether"), pin,
                    List.of("role=wsserver", "sessions=" + sessions), Duration.ofMinutes(4), log, line -> {
                        if (line.startsWith(ServerIdleWorkload.PORT_LINE + " ")) {
                            String url = "ws://127.0.0.1:" + line.substring(5).trim() + "/idle";
                            opener[0] = new SessionOpener(url, sessions);
                        }
                    });
        } catch (IOException e) {
            failures.add("WebSocket server sessions: " + e.getMessage());
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted during the WebSocket server sessions");
            return Map.of();
        } finally {
            if (opener[0] != null) {
                opener[0].close();
            }
        }
    }

    /**
     * One subscriber JVM ({@link SlowConsumerWorkload}); once it says {@code READY <topic>}, this JVM floods
     * the topic ({@link Flood}).
     */
    private Map<String, Double> slowConsumer(String java, Contender c, int port) {
        Path log = logs.resolve("slowconsumer-" + c.id() + ".log");
        Flood[] flood = new Flood[1];
        List<String> args = List.of("role=slowconsumer", c.args().get(1), "host=127.0.0.1", "port=" + port);
        try {
            Map<String, Double> result = new HashMap<>(ContenderProcess.run(java, classpaths.get(c.classpath()), pin, args,
                    SlowConsumerWorkload.TIMEOUT.plusMinutes(1), log, line -> {
                        if (line.startsWith(SlowConsumerWorkload.READY_LINE + " ") && flood[0] == null) {
                            flood[0] = Flood.start("127.0.0.1", port, line.substring(SlowConsumerWorkload.READY_LINE.length() + 1).trim());
                        }
                    }));
            if (flood[0] != null) {
                flood[0].close();
                result.put("slow.flood_s", flood[0].seconds());
                if (flood[0].failure() != null) {
                    failures.add("slow consumer, publisher for " + c.label() + ": " + flood[0].failure());
                }
            }
            return result;
        } catch (IOException e) {
            failures.add("slow consumer, " + c.label() + ": " + e.getMessage());
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted during the slow consumer");
            return Map.of();
        } finally {
            // A subscriber that failed early must not leave the publisher flooding into the next run.
            if (flood[0] != null) {
                flood[0].stop();
            }
        }
    }

    /**
     * Copies the jars of a class path, so that a jar re-installed into the local repository while the
     * run goes on (other builds share this machine) cannot break a contender JVM halfway.
     */
    private static String snapshot(String classpath, Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder copied = new StringBuilder();
        for (String entry : classpath.split(java.io.File.pathSeparator)) {
            Path source = Path.of(entry);
            Path target = source;
            if (Files.isRegularFile(source) && entry.endsWith(".jar")) {
                target = dir.resolve(Integer.toHexString(entry.hashCode()) + "-" + source.getFileName());
                if (!Files.exists(target)) {
                    Files.copy(source, target);
                }
            }
            if (copied.length() > 0) {
                copied.append(java.io.File.pathSeparator);
            }
            copied.append(target);
        }
        return copied.toString();
    }

    /**
     * @return the real storm's deciles of failed attempt durations and loss detection per jitter, as the
     *         simulator's cross-check takes them, or empty when the real storm did not run
     */
    static String crossCheckArgument(Map<String, Double> real) {
        StringBuilder out = new StringBuilder();
        for (String jitter : List.of("none", "full", "equal")) {
            StringBuilder attempts = new StringBuilder();
            StringBuilder detect = new StringBuilder();
            boolean complete = true;
            for (int q = 0; q <= 100; q += 10) {
                Double a = real.get("storm." + jitter + ".failed_attempt_ms_q" + q);
                Double d = real.get("storm." + jitter + ".detect_ms_q" + q);
                if (a == null || d == null || !Double.isFinite(a) || !Double.isFinite(d)) {
                    complete = false;
                    break;
                }
                attempts.append(q == 0 ? "" : ";").append(String.format(java.util.Locale.ROOT, "%.3f", a));
                detect.append(q == 0 ? "" : ";").append(String.format(java.util.Locale.ROOT, "%.3f", d));
            }
            if (complete) {
                out.append(out.length() == 0 ? "" : ",").append(jitter.toUpperCase(java.util.Locale.ROOT)).append('/')
                        .append(attempts).append('/').append(detect);
            }
        }
        return out.toString();
    }

    private static String join(List<Integer> values) {
        StringBuilder s = new StringBuilder();
        for (Integer v : values) {
            if (s.length() > 0) {
                s.append(',');
            }
            s.append(v);
        }
        return s.toString();
    }

    private static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
