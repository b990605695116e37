package dev.tether.benchmarks.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The WebSocket echo server ({@link EchoServer}) in a JVM of its own, pinned to CPU 0 like the broker when the
 * contenders are pinned to CPU 1: in the harness JVM it floated over both cores and its threads could share the
 * measured client's core. It prints {@code PORT <n>} once it listens and stops when its standard input ends.
 */
final class EchoProcess implements AutoCloseable {

    static final String PORT_LINE = "PORT";

    private final Process process;
    private final int port;

    private EchoProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * @param java      the java executable
     * @param classpath Tether's class path
     * @param pin       pin to CPU 0 with taskset
     * @param log       where the server's stderr goes
     * @return the running server
     * @throws IOException if it does not say its port within 30 s
     */
    static EchoProcess start(String java, String classpath, boolean pin, Path log) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (pin) {
            cmd.addAll(List.of("taskset", "-c", "0"));
        }
        cmd.add(java);
        cmd.addAll(ContenderProcess.JVM_OPTIONS);
        cmd.addAll(List.of("-cp", classpath, ContenderMain.class.getName(), "role=echo"));
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith(PORT_LINE + " ")) {
                        port.complete(Integer.parseInt(line.substring(PORT_LINE.length() + 1).trim()));
                    }
                }
            } catch (IOException | RuntimeException e) {
                port.completeExceptionally(e);
            }
            port.completeExceptionally(new IOException("the echo server ended without saying its port"));
        }, "echo-server-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new EchoProcess(p, port.get(30, TimeUnit.SECONDS));
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new IOException("the echo server did not start (see " + log.getFileName() + "): " + e.getMessage(), e);
        }
    }

    /** Runs in the echo server's JVM: serves until standard input ends. */
    static void serve() throws IOException {
        try (EchoServer server = EchoServer.start()) {
            System.out.println(PORT_LINE + " " + server.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // nothing is sent; the harness closes the stream to stop the server
            }
        }
    }

    /** @return the server's process id (taskset execs the JVM, so it is the JVM's) */
    long pid() {
        return process.pid();
    }

    String url() {
        return "ws://127.0.0.1:" + port + "/echo";
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
