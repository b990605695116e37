package dev.tether.interop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real Mosquitto broker (Debian package {@code mosquitto}) on loopback, with a TCP and a
 * WebSocket listener on free ports, a password file and persistent sessions. It can be stopped and
 * started again on the same ports. {@link #startBridgedTo} starts a second broker with a bridge to a first
 * one, carrying every topic both ways.
 */
final class Mosquitto implements AutoCloseable {

    private final Path dir;
    private final int tcpPort;
    private final int wsPort;
    private Process process;

    private Mosquitto(String username, String password) throws IOException, InterruptedException {
        this(username, password, null);
    }

    private Mosquitto(String username, String password, Mosquitto bridgeTo)
            throws IOException, InterruptedException {
        this.dir = Files.createTempDirectory("mosquitto");
        this.tcpPort = freePort();
        this.wsPort = freePort();
        Path passwords = dir.resolve("passwords");
        Files.writeString(passwords, "");
        run("mosquitto_passwd", "-b", passwords.toString(), username, password);
        boolean root = "root".equals(System.getProperty("user.name"));
        String conf = (root ? "user root\n" : "")
                + "per_listener_settings false\n"
                + "allow_anonymous false\n"
                + "password_file " + passwords + "\n"
                + "persistence true\n"
                + "persistence_location " + dir + "/\n"
                + "autosave_interval 1\n"
                // A log file is flushed line by line; stdout into a file is not, and would lag behind.
                + "log_dest file " + dir.resolve("broker.log") + "\n"
                + "log_type all\n"
                + "listener " + tcpPort + " 127.0.0.1\n"
                + "protocol mqtt\n"
                + "listener " + wsPort + " 127.0.0.1\n"
                + "protocol websockets\n";
        if (bridgeTo != null) {
            // One bridge connection, both directions, QoS 1: what is published on either broker reaches the other's
            // subscribers. Mosquitto marks its bridge connection (try_private), so nothing loops back.
            conf += "connection bridge-to-" + bridgeTo.tcpPort + "\n"
                    + "address 127.0.0.1:" + bridgeTo.tcpPort + "\n"
                    + "remote_username " + username + "\n"
                    + "remote_password " + password + "\n"
                    + "remote_clientid bridge-" + tcpPort + "\n"
                    + "topic # both 1\n"
                    + "cleansession false\n"
                    + "restart_timeout 1\n";
        }
        Files.writeString(dir.resolve("mosquitto.conf"), conf);
        start();
    }

    /**
     * @param username the one user the broker accepts
     * @param password its password
     * @return a running broker
     */
    static Mosquitto start(String username, String password) {
        return start(username, password, null);
    }

    /**
     * A second broker with a bridge to {@code first} ({@code topic # both 1}), logging in there with the same user.
     * Its listeners accept clients as soon as it runs; the bridge connects shortly after (see its log).
     *
     * @param first    the broker to bridge to
     * @param username the one user both brokers accept
     * @param password its password
     * @return a running broker
     */
    static Mosquitto startBridgedTo(Mosquitto first, String username, String password) {
        return start(username, password, first);
    }

    private static Mosquitto start(String username, String password, Mosquitto bridgeTo) {
        try {
            return new Mosquitto(username, password, bridgeTo);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start mosquitto (Debian package 'mosquitto'; .ci/run installs it): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    int tcpPort() {
        return tcpPort;
    }

    int wsPort() {
        return wsPort;
    }

    /** Stops the broker (SIGTERM): it closes every connection and saves its sessions to disk. */
    void stop() {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the broker (again) on the same ports, with the sessions it saved. */
    void start() throws IOException {
        process = new ProcessBuilder(binary(), "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!accepts(tcpPort) || !accepts(wsPort)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("mosquitto did not start; its log:\n" + log());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    String log() {
        try {
            Path broker = dir.resolve("broker.log");
            return Files.readString(dir.resolve("mosquitto.log"), StandardCharsets.UTF_8)
                    + (Files.exists(broker) ? Files.readString(broker, StandardCharsets.UTF_8) : "");
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String binary() {
        for (String p : new String[] {"/usr/sbin/mosquitto", "/usr/bin/mosquitto"}) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "mosquitto";
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd[0]) + " failed: " + out);
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

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
