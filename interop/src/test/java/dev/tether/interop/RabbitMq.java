package dev.tether.interop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real RabbitMQ (Debian package {@code rabbitmq-server}; 3.10 in Debian 12) with its MQTT and Web MQTT plugins,
 * on free loopback ports, with a node name, configuration, data directory, Erlang cookie and port mapper (epmd,
 * on a private port, run as a child of the test) of its own under a temporary directory. It speaks MQTT 3.1.1
 * only: an MQTT 5 CONNECT is answered by closing the connection. The guest user (password guest) may connect
 * from loopback.
 *
 * <p>Started from {@code /usr/lib/rabbitmq/bin/rabbitmq-server} directly, as the test's own user (root in CI): the
 * package's {@code /usr/sbin} wrapper would switch to the {@code rabbitmq} user, who cannot write the test's
 * directory. Starting takes 10-15 s (the MQTT plugin's Raft leader election waits for cluster members first).
 */
final class RabbitMq implements AutoCloseable {

    static final String BINARY = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    static final String USER = "guest";
    static final String PASSWORD = "guest";

    private final Path dir;
    private final int mqttPort;
    private final int webMqttPort;
    private final Process epmd;
    private final Process server;

    private RabbitMq() throws IOException {
        dir = Files.createTempDirectory("rabbitmq");
        mqttPort = Mosquitto.freePort();
        webMqttPort = Mosquitto.freePort();
        int amqpPort = Mosquitto.freePort();
        int distPort = Mosquitto.freePort();
        int epmdPort = Mosquitto.freePort();
        Path home = Files.createDirectories(dir.resolve("home"));
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("log"));
        Files.writeString(dir.resolve("rabbitmq.conf"), String.join("\n",
                "listeners.tcp.default = 127.0.0.1:" + amqpPort,
                "mqtt.listeners.tcp.default = 127.0.0.1:" + mqttPort,
                "web_mqtt.tcp.ip = 127.0.0.1",
                "web_mqtt.tcp.port = " + webMqttPort,
                "loopback_users = none",
                "") );
        epmd = new ProcessBuilder("epmd", "-port", Integer.toString(epmdPort), "-address", "127.0.0.1")
                .redirectErrorStream(true).redirectOutput(dir.resolve("epmd.log").toFile()).start();
        ProcessBuilder pb = new ProcessBuilder(BINARY).redirectErrorStream(true)
                .redirectOutput(dir.resolve("rabbitmq.log").toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("RABBITMQ_") || k.startsWith("ERL_"));
        env.put("HOME", home.toString());
        env.put("ERL_EPMD_PORT", Integer.toString(epmdPort));
        env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
        env.put("RABBITMQ_NODENAME", "tether-" + ProcessHandle.current().pid() + "-" + mqttPort + "@localhost");
        env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        env.put("RABBITMQ_NODE_PORT", Integer.toString(amqpPort));
        env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
        env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq").toString());
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("data").toString());
        env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
        env.put("RABBITMQ_LOGS", "-");
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_ENABLED_PLUGINS", "rabbitmq_mqtt,rabbitmq_web_mqtt");
        server = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!accepts(mqttPort) || !accepts(webMqttPort)) {
            if (!server.isAlive() || System.nanoTime() > deadline) {
                String log = log();
                close();
                throw new IllegalStateException("rabbitmq-server did not open its MQTT and Web MQTT listeners within 90 s; "
                        + "its log:\n" + log);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /** @return a running broker */
    static RabbitMq start() {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException("RabbitMQ is not installed (" + BINARY + "; Debian package 'rabbitmq-server', "
                    + ".ci/run installs it)");
        }
        try {
            return new RabbitMq();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start RabbitMQ: " + e.getMessage(), e);
        }
    }

    int mqttPort() {
        return mqttPort;
    }

    int webMqttPort() {
        return webMqttPort;
    }

    String log() {
        try {
            return Files.readString(dir.resolve("rabbitmq.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the node (SIGTERM to it and the Erlang processes under it), then its port mapper. */
    @Override
    public void close() {
        stop(server);
        stop(epmd);
    }

    private static void stop(Process p) {
        if (p == null) {
            return;
        }
        var children = p.descendants().toList();
        children.forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle c : children) {
            try {
                c.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                c.destroyForcibly();
            }
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
