package dev.tether.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Node.js peer (MQTT.js, Aedes, ws) started from the scripts in {@code src/test/node}. Every
 * script prints one JSON object per line; a test waits for lines, never for time. The peer's
 * output is kept so a failing test can show it.
 */
final class NodePeer implements AutoCloseable {

    static final Path NODE_DIR = Path.of("src", "test", "node").toAbsolutePath();

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> pending = new LinkedBlockingQueue<>();
    private final String name;

    private NodePeer(String name, List<String> command) throws IOException {
        this.name = name;
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules"))) {
            throw new IllegalStateException("the Node peers are not installed: run 'npm ci' in " + NODE_DIR.getFileName()
                    + " (src/test/node of the interop module); .ci/run does this");
        }
        this.process = new ProcessBuilder(command).directory(NODE_DIR.toFile()).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    pending.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "node-peer-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * @param script a script in src/test/node
     * @param args   its arguments
     * @return the running peer
     */
    static NodePeer start(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("node", script));
        cmd.addAll(List.of(args));
        try {
            return new NodePeer(script, cmd);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start 'node " + script + "': is Node.js installed? " + e.getMessage(), e);
        }
    }

    /**
     * Waits for the next output line containing all the given fragments.
     *
     * @param timeout   how long to wait
     * @param fragments e.g. {@code "\"event\":\"ready\""}
     * @return the line
     */
    String await(Duration timeout, String... fragments) {
        return await(timeout, l -> List.of(fragments).stream().allMatch(l::contains), String.join(" & ", fragments));
    }

    String await(Duration timeout, Predicate<String> match, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left <= 0 ? null : pending.poll(left, TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new AssertionError(name + ": no line with " + what + " within " + timeout.toMillis() + " ms; output:\n" + output());
                }
                if (match.test(line)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** @return every line so far */
    List<String> lines() {
        return List.copyOf(lines);
    }

    /** @return how many lines so far contain all fragments */
    long count(String... fragments) {
        return lines.stream().filter(l -> List.of(fragments).stream().allMatch(l::contains)).count();
    }

    /**
     * @param line  a JSON line
     * @param field a numeric field
     * @return its value
     */
    static int intField(String line, String field) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + field + "\":(\\d+)").matcher(line);
        if (!m.find()) {
            throw new AssertionError("no numeric field '" + field + "' in " + line);
        }
        return Integer.parseInt(m.group(1));
    }

    String output() {
        return String.join("\n", lines);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
