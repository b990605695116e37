package dev.tether.samples.broker;

import dev.tether.jwt.InvalidJwtException;
import dev.tether.jwt.JwtVerifier;
import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An embedded Moquette broker on 127.0.0.1 with a TCP and a WebSocket listener, whose
 * authenticator accepts a client only if its password is a JWT that a {@link JwtVerifier} accepts
 * (signature, expiry). It can be stopped and started again on the same ports, as a broker restart.
 */
public final class JwtBroker implements AutoCloseable {

    private final JwtVerifier verifier;
    private final int tcpPort;
    private final int wsPort;
    private final Path data;
    private final Consumer<String> refusals;
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger expired = new AtomicInteger();
    private final ScheduledExecutorService expiry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "jwt-broker-expiry");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean disconnectAtExpiry;
    private final java.util.Map<String, Long> refusedUntil = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Server server;

    private JwtBroker(JwtVerifier verifier, Consumer<String> refusals) throws IOException {
        this.verifier = verifier;
        this.refusals = refusals;
        this.tcpPort = freePort();
        this.wsPort = freePort();
        this.data = Files.createTempDirectory("tether-broker");
        start();
    }

    /**
     * @param verifier checks each client's password as a JWT
     * @param refusals told why each refused client was refused (never the token itself)
     * @return a running broker
     */
    public static JwtBroker start(JwtVerifier verifier, Consumer<String> refusals) {
        try {
            return new JwtBroker(verifier, refusals);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded broker: " + e.getMessage(), e);
        }
    }

    /** Starts the broker (again), on the same ports, with no sessions. */
    public synchronized void start() {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(tcpPort));
        p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, Integer.toString(wsPort));
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, data.toString());
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "false");
        p.setProperty(IConfig.BUFFER_FLUSH_MS_PROPERTY_NAME, "0");
        Server s = new Server();
        try {
            s.startServer(new MemoryConfig(p), List.of(), null, this::authenticate, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded broker on ports " + tcpPort + "/" + wsPort, e);
        }
        server = s;
    }

    /** Stops the broker: every connection is closed, every session forgotten. */
    public synchronized void stop() {
        Server s = server;
        server = null;
        if (s != null) {
            s.stopServer();
        }
    }

    /**
     * Disconnects a client and refuses it for a while, as a network outage for that client alone:
     * the broker and its other clients carry on.
     *
     * @param clientId  the client
     * @param refuseFor how long its reconnects are refused
     * @return whether the client was connected
     */
    public boolean kick(String clientId, java.time.Duration refuseFor) {
        refusedUntil.put(clientId, System.nanoTime() + refuseFor.toNanos());
        Server s = server;
        return s != null && s.disconnectClient(clientId);
    }

    private boolean authenticate(String clientId, String username, byte[] password) {
        Long until = refusedUntil.get(clientId);
        if (until != null && System.nanoTime() < until) {
            refuse(clientId, "kicked out for a while");
            return false;
        }
        if (password == null) {
            refuse(clientId, "no password (a JWT is required)");
            return false;
        }
        try {
            Date exp = verifier.verify(new String(password, StandardCharsets.UTF_8)).getExpirationTime();
            if (disconnectAtExpiry && exp != null) {
                long delay = Math.max(0, exp.getTime() - System.currentTimeMillis());
                expiry.schedule(() -> {
                    Server s = server;
                    if (s != null && s.disconnectClient(clientId)) {
                        expired.incrementAndGet();
                    }
                }, delay, TimeUnit.MILLISECONDS);
            }
            return true;
        } catch (InvalidJwtException e) {
            refuse(clientId, e.reason().name().toLowerCase(java.util.Locale.ROOT));
            return false;
        }
    }

    private void refuse(String clientId, String why) {
        refused.incrementAndGet();
        refusals.accept("broker refused " + clientId + ": " + why);
    }

    /**
     * Makes the broker disconnect each client when the token it connected with expires, as
     * brokers that enforce token lifetimes do. Off by default.
     *
     * @param on whether to disconnect at expiry
     * @return this broker
     */
    public JwtBroker disconnectAtExpiry(boolean on) {
        this.disconnectAtExpiry = on;
        return this;
    }

    /** @return how many clients the broker disconnected because their token expired */
    public int expiredCount() {
        return expired.get();
    }

    /** @return how many connections the broker refused */
    public int refusedCount() {
        return refused.get();
    }

    /** @return {@code tcp://127.0.0.1:<port>} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + tcpPort;
    }

    /** @return {@code ws://127.0.0.1:<port>/mqtt} */
    public String wsUri() {
        return "ws://127.0.0.1:" + wsPort + "/mqtt";
    }

    /** @return whether the broker is running */
    public boolean isRunning() {
        return server != null;
    }

    @Override
    public void close() {
        expiry.shutdownNow();
        stop();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
