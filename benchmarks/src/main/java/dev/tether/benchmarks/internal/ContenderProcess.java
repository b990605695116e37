package dev.tether.benchmarks.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Runs one contender in a JVM of its own and reads its {@code RESULT} lines. */
final class ContenderProcess {

    /** The same heap and collector for every contender. */
    static final List<String> JVM_OPTIONS = List.of("-Xms256m", "-Xmx256m", "-XX:+UseG1GC",
            "-Djava.net.preferIPv4Stack=true");

    private ContenderProcess() {
    }

    /**
     * @param java      the java executable
     * @param classpath the class path of the contender's JVM
     * @param pin       pin to CPU 1 with taskset
     * @param args      arguments for {@link ContenderMain}
     * @param timeout   the bound on the whole run
     * @param log       where the contender's stderr goes
     * @return the results
     * @throws IOException if the process fails, times out or prints no result
     */
    static Map<String, Double> run(String java, String classpath, boolean pin, List<String> args, Duration timeout,
                                   Path log) throws IOException, InterruptedException {
        return run(java, classpath, pin, args, timeout, log, line -> { });
    }

    /**
     * Like {@link #run(String, String, boolean, List, Duration, Path)}, telling {@code onLine} every output line.
     */
    static Map<String, Double> run(String java, String classpath, boolean pin, List<String> args, Duration timeout,
                                   Path log, Consumer<String> onLine) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (pin) {
            cmd.addAll(List.of("taskset", "-c", "1"));
        }
        cmd.add(java);
        cmd.addAll(JVM_OPTIONS);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(ContenderMain.class.getName());
        cmd.addAll(args);
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        Map<String, Double> results = new HashMap<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    parse(line, results);
                    onLine.accept(line);
                }
            } catch (IOException e) {
                // The process ended; what was read counts.
            }
        }, "contender-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new IOException("contender did not finish within " + timeout + ": " + String.join(" ", args)
                    + " (see " + log.getFileName() + ")");
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
        if (p.exitValue() != 0) {
            throw new IOException("contender exited with " + p.exitValue() + ": " + String.join(" ", args)
                    + "; last error: " + lastLine(log));
        }
        synchronized (results) {
            return new HashMap<>(results);
        }
    }

    static void parse(String line, Map<String, Double> into) {
        String[] parts = line.trim().split("\\s+");
        if (parts.length == 3 && parts[0].equals("RESULT")) {
            try {
                double value = Double.parseDouble(parts[2]);
                synchronized (into) {
                    into.put(parts[1], value);
                }
            } catch (NumberFormatException ignored) {
                // Not a result line after all.
            }
        }
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains("Exception") || lines.get(i).contains("Error")) {
                    return lines.get(i).trim();
                }
            }
            return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1).trim();
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
