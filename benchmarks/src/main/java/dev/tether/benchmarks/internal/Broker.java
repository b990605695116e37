package dev.tether.benchmarks.internal;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The broker every MQTT contender talks to in one run, on 127.0.0.1 and a free port: Mosquitto
 * when it is installed (pinned to the first CPU when {@code taskset} is there), else an embedded
 * Moquette in the harness JVM.
 */
final class Broker implements AutoCloseable {

    static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final String description;
    private final int port;
    private final @Nullable Process process;
    private final @Nullable Server moquette;
    private final Path dir;

    private Broker(String description, int port, @Nullable Process process, @Nullable Server moquette, Path dir) {
        this.description = description;
        this.port = port;
        this.process = process;
        this.moquette = moquette;
        this.dir = dir;
    }

    static Broker start(int window, boolean pin) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("bench-broker");
        int port = freePort();
        if (Files.isExecutable(MOSQUITTO)) {
            Path conf = dir.resolve("mosquitto.conf");
            StringBuilder c = new StringBuilder()
                    .append("listener ").append(port).append(" 127.0.0.1\n")
                    .append("allow_anonymous true\n")
                    .append("persistence false\n")
                    .append("max_inflight_messages ").append(window).append('\n')
                    .append("max_queued_messages 100000\n")
                    .append("log_type error\n")
                    .append("log_dest stderr\n");
            if ("root".equals(System.getProperty("user.name"))) {
                c.append("user root\n");
            }
            Files.writeString(conf, c.toString(), StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>();
            if (pin) {
                cmd.addAll(List.of("taskset", "-c", "0"));
            }
            cmd.addAll(List.of(MOSQUITTO.toString(), "-c", conf.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
            awaitListening(port, p);
            return new Broker(version() + (pin ? ", pinned to CPU 0" : ""), port, p, null, dir);
        }
        Properties props = new Properties();
        props.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
        props.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(port));
        props.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        props.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        props.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, dir.toString());
        props.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "true");
        props.setProperty(IConfig.RECEIVE_MAXIMUM, Integer.toString(window));
        props.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, Integer.toString(1024 * 1024));
        Server server = new Server();
        server.startServer(new MemoryConfig(props));
        return new Broker("Moquette 0.18.3 (embedded in the harness JVM; Mosquitto not installed)", port, null, server, dir);
    }

    String description() {
        return description;
    }

    int port() {
        return port;
    }

    /** @return the broker's process id (taskset execs it, so it is Mosquitto's), or -1 when it runs in this JVM */
    long pid() {
        return process == null ? -1 : process.pid();
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (moquette != null) {
            moquette.stopServer();
        }
    }

    Path logDir() {
        return dir;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private static String version() {
        try {
            Process p = new ProcessBuilder(MOSQUITTO.toString(), "-h").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
            String first = out.lines().findFirst().orElse("mosquitto").trim();
            return first.isEmpty() ? "Mosquitto" : "Mosquitto " + first.replace("mosquitto version ", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "Mosquitto";
        }
    }

    private static void awaitListening(int port, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("mosquitto exited with " + p.exitValue() + " before listening on " + port);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                // Not listening yet: wait on the process for a moment, then try again.
                p.waitFor(20, TimeUnit.MILLISECONDS);
            }
        }
        throw new IOException("mosquitto did not listen on " + port + " within " + START_TIMEOUT);
    }
}
