package dev.tether.mqtt.test;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** Embedded Moquette (MQTT 3.1.1 and 5) with a TCP and a WebSocket listener on loopback. */
public final class MoquetteBroker implements AutoCloseable {

    private final AuthPolicy auth = new AuthPolicy();
    private final int tcpPort = Ports.free();
    private final int wsPort = Ports.free();
    private final Path data;
    private Server server;

    private MoquetteBroker() {
        try {
            data = Files.createTempDirectory("moquette");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return a started broker */
    public static MoquetteBroker start() {
        MoquetteBroker b = new MoquetteBroker();
        b.startServer();
        return b;
    }

    private void startServer() {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(tcpPort));
        p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, Integer.toString(wsPort));
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, data.toString());
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "true");
        Server s = new Server();
        try {
            s.startServer(new MemoryConfig(p), List.of(), null,
                    (clientId, username, password) -> auth.allows(username,
                            password == null ? null : new String(password, StandardCharsets.UTF_8)), null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = s;
    }

    /** @return the credentials policy, changeable while running */
    public AuthPolicy auth() {
        return auth;
    }

    /** @return e.g. {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + tcpPort;
    }

    /** @return e.g. {@code ws://127.0.0.1:port/mqtt} */
    public String wsUri() {
        return "ws://127.0.0.1:" + wsPort + "/mqtt";
    }

    /** @return the TCP port */
    public int tcpPort() {
        return tcpPort;
    }

    /** @return how many clients are connected now, as the broker sees it */
    public int connectedClients() {
        return server.listConnectedClients().size();
    }

    /** Stops the broker (every connection is closed). */
    public void stop() {
        server.stopServer();
    }

    /** Starts it again on the same ports, with no sessions. */
    public void restart() {
        startServer();
    }

    /**
     * Calls the listener with the client id and the payload of each PUBLISH the broker receives, from now until it
     * stops (on Moquette's interceptor threads).
     *
     * @param listener takes the client id and the payload
     */
    public void onPublish(java.util.function.BiConsumer<String, byte[]> listener) {
        server.addInterceptHandler(new io.moquette.interception.AbstractInterceptHandler() {
            @Override
            public String getID() {
                return "test-publish-listener";
            }

            @Override
            public void onSessionLoopError(Throwable error) {
            }

            @Override
            public void onPublish(io.moquette.interception.messages.InterceptPublishMessage msg) {
                io.netty.buffer.ByteBuf payload = msg.getPayload();
                byte[] bytes = new byte[payload.readableBytes()];
                payload.getBytes(payload.readerIndex(), bytes);
                listener.accept(msg.getClientID(), bytes);
            }
        });
    }

    @Override
    public void close() {
        server.stopServer();
    }
}
