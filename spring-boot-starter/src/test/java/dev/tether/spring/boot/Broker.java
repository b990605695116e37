package dev.tether.spring.boot;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthenticator;
import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptConnectMessage;
import io.moquette.interception.messages.InterceptDisconnectMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** An embedded Moquette broker on loopback: the real peer of the starter's MQTT clients. */
final class Broker implements AutoCloseable {

    private final int port = freePort();
    private final Path data;
    private final IAuthenticator authenticator;
    private final Consumer<String> events;
    private volatile Server server;

    private final boolean anonymous;
    private final int sslPort = freePort();
    private Path keyStore;

    private Broker(boolean anonymous, IAuthenticator authenticator, Consumer<String> events) {
        this(anonymous, authenticator, events, null);
    }

    private Broker(boolean anonymous, IAuthenticator authenticator, Consumer<String> events, Path keyStore) {
        this.keyStore = keyStore;
        this.anonymous = anonymous;
        this.authenticator = authenticator;
        this.events = events;
        try {
            data = Files.createTempDirectory("moquette");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = startServer();
    }

    /** @return a broker that lets everyone in */
    static Broker start() {
        return new Broker(true, (clientId, user, password) -> true, e -> { });
    }

    /**
     * @param keyStore a PKCS#12 key store (password {@code changeit}) with the broker's key and certificate
     * @return a broker that lets everyone in, with a TLS listener besides the TCP one
     */
    static Broker startTls(Path keyStore) {
        return new Broker(true, (clientId, user, password) -> true, e -> { }, keyStore);
    }

    /**
     * @param authenticator decides CONNECT (a CONNECT without user name is refused)
     * @param events        told "connect:<clientId>" and "disconnect:<clientId>" (a DISCONNECT packet) as the broker sees them
     * @return the broker
     */
    static Broker start(IAuthenticator authenticator, Consumer<String> events) {
        return new Broker(false, authenticator, events);
    }

    private Server startServer() {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, "127.0.0.1");
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(port));
        p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, "disabled");
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, data.toString());
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, Boolean.toString(anonymous));
        if (keyStore != null) {
            p.setProperty(IConfig.SSL_PORT_PROPERTY_NAME, Integer.toString(sslPort));
            p.setProperty(IConfig.JKS_PATH_PROPERTY_NAME, keyStore.toString());
            p.setProperty(IConfig.KEY_STORE_TYPE, "pkcs12");
            p.setProperty(IConfig.KEY_STORE_PASSWORD_PROPERTY_NAME, "changeit");
            p.setProperty(IConfig.KEY_MANAGER_PASSWORD_PROPERTY_NAME, "changeit");
        }
        Server s = new Server();
        try {
            s.startServer(new MemoryConfig(p), List.of(new AbstractInterceptHandler() {
                @Override
                public String getID() {
                    return "test-events";
                }

                @Override
                public void onConnect(InterceptConnectMessage msg) {
                    events.accept("connect:" + msg.getClientID());
                }

                @Override
                public void onDisconnect(InterceptDisconnectMessage msg) {
                    events.accept("disconnect:" + msg.getClientID());
                }

                @Override
                public void onSessionLoopError(Throwable error) {
                }
            }), null, authenticator, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s;
    }

    /** @return {@code tcp://127.0.0.1:<port>} */
    String tcpUri() {
        return "tcp://127.0.0.1:" + port;
    }

    /** @return {@code ssl://localhost:<port>} of the TLS listener */
    String sslUri() {
        return "ssl://localhost:" + sslPort;
    }

    /** @return the client ids connected now, as the broker sees them */
    Set<String> connectedClients() {
        return server.listConnectedClients().stream().map(c -> c.getClientID()).collect(Collectors.toSet());
    }

    /** Stops the broker: every connection is closed. */
    void stop() {
        server.stopServer();
    }

    /** Starts it again on the same port. */
    void restart() {
        server = startServer();
    }

    @Override
    public void close() {
        server.stopServer();
    }

    /** @return a port on 127.0.0.1 that was free a moment ago */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
