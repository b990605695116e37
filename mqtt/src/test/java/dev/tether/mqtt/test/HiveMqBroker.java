package dev.tether.mqtt.test;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.EnhancedAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthConnectInput;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthOutput;
import com.hivemq.extension.sdk.api.packets.connect.ConnectPacket;
import com.hivemq.extension.sdk.api.packets.general.DisconnectedReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Embedded HiveMQ CE (MQTT 3.1.1 and 5) with a TCP and a WebSocket listener on loopback and an
 * enhanced authenticator: CONNECTs with a user name and password, or with the {@code token}
 * authentication method, are checked against an {@link AuthPolicy}; re-authentication (AUTH 0x19)
 * is checked the same way. Takes seconds to stop: share one per test class.
 */
public final class HiveMqBroker implements AutoCloseable {

    /** The enhanced authentication method the broker understands. */
    public static final String TOKEN_METHOD = "token";

    private final AuthPolicy auth = new AuthPolicy();
    private final AtomicInteger reauthentications = new AtomicInteger();
    private final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> pubacks = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> connects = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> pubrecs = new java.util.concurrent.ConcurrentHashMap<>();
    private final int tcpPort = Ports.free();
    private final int wsPort = Ports.free();
    private final EmbeddedHiveMQ hivemq;

    private HiveMqBroker() {
        try {
            Path root = Files.createTempDirectory("hivemq");
            Path conf = Files.createDirectories(root.resolve("conf"));
            Files.writeString(conf.resolve("config.xml"), """
                    <?xml version="1.0"?>
                    <hivemq>
                      <listeners>
                        <tcp-listener><port>%d</port><bind-address>127.0.0.1</bind-address></tcp-listener>
                        <websocket-listener>
                          <port>%d</port><bind-address>127.0.0.1</bind-address><path>/mqtt</path>
                          <subprotocols><subprotocol>mqtt</subprotocol></subprotocols>
                          <allow-extensions>true</allow-extensions>
                        </websocket-listener>
                      </listeners>
                      <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                    </hivemq>
                    """.formatted(tcpPort, wsPort), StandardCharsets.UTF_8);
            hivemq = EmbeddedHiveMQ.builder()
                    .withConfigurationFolder(conf)
                    .withDataFolder(Files.createDirectories(root.resolve("data")))
                    .withExtensionsFolder(Files.createDirectories(root.resolve("extensions")))
                    .withEmbeddedExtension(EmbeddedExtension.builder().withId("tether-test-auth").withName("auth")
                            .withVersion("1").withExtensionMain(new AuthExtension()).build())
                    .withoutLoggingBootstrap()
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return a started broker */
    public static HiveMqBroker start() {
        HiveMqBroker b = new HiveMqBroker();
        b.hivemq.start().join();
        return b;
    }

    /** @return the credentials policy, changeable while running */
    public AuthPolicy auth() {
        return auth;
    }

    /** @return how many re-authentications the broker accepted */
    public int reauthentications() {
        return reauthentications.get();
    }

    /**
     * @param clientId a client identifier
     * @return how many PUBACKs the broker received from that client so far
     */
    public int pubacksFrom(String clientId) {
        AtomicInteger n = pubacks.get(clientId);
        return n == null ? 0 : n.get();
    }

    /**
     * @param clientId a client identifier
     * @return how many PUBRECs the broker received from that client so far
     */
    public int pubrecsFrom(String clientId) {
        AtomicInteger n = pubrecs.get(clientId);
        return n == null ? 0 : n.get();
    }

    /** @return e.g. {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + tcpPort;
    }

    /** @return the TCP port */
    public int tcpPort() {
        return tcpPort;
    }

    /** @return e.g. {@code ws://127.0.0.1:port/mqtt} */
    public String wsUri() {
        return "ws://127.0.0.1:" + wsPort + "/mqtt";
    }

    /**
     * @param clientId a client id
     * @return how many CONNECT packets from that client the broker has received (counted by its authenticator)
     */
    public int connectsFrom(String clientId) {
        AtomicInteger n = connects.get(clientId);
        return n == null ? 0 : n.get();
    }

    /** @return how many MQTT connections the broker has open now */
    public long openConnections() {
        var gauge = hivemq.getMetricRegistry().getGauges().get("com.hivemq.networking.connections.current");
        return gauge == null ? -1 : ((Number) gauge.getValue()).longValue();
    }

    @Override
    public void close() {
        hivemq.stop().join();
    }

    private final class AuthExtension implements ExtensionMain {
        @Override
        public void extensionStart(ExtensionStartInput in, ExtensionStartOutput out) {
            Services.securityRegistry().setEnhancedAuthenticatorProvider(input -> new Authenticator());
            // Counts, at the broker, the acknowledgements each client sends for the messages it receives.
            Services.initializerRegistry().setClientInitializer((input, context) -> {
                String id = input.getClientInformation().getClientId();
                context.addPubackInboundInterceptor((pin, pout) -> pubacks.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
                context.addPubrecInboundInterceptor((rin, rout) -> pubrecs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
            });
        }

        @Override
        public void extensionStop(ExtensionStopInput in, ExtensionStopOutput out) {
        }
    }

    private final class Authenticator implements EnhancedAuthenticator {
        @Override
        public void onConnect(EnhancedAuthConnectInput input, EnhancedAuthOutput output) {
            ConnectPacket c = input.getConnectPacket();
            connects.computeIfAbsent(c.getClientId(), k -> new AtomicInteger()).incrementAndGet();
            String user = c.getUserName().orElse(null);
            String secret = c.getAuthenticationMethod().isPresent()
                    ? c.getAuthenticationData().map(HiveMqBroker::text).orElse(null)
                    : c.getPassword().map(HiveMqBroker::text).orElse(null);
            if ("banned".equals(user)) {
                output.failAuthentication(DisconnectedReasonCode.BANNED, "banned");
            } else if (auth.allows(user, secret)) {
                output.authenticateSuccessfully();
            } else {
                output.failAuthentication(DisconnectedReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad credentials");
            }
        }

        @Override
        public void onReAuth(EnhancedAuthInput input, EnhancedAuthOutput output) {
            String secret = input.getAuthPacket().getAuthenticationDataAsArray()
                    .map(b -> new String(b, StandardCharsets.UTF_8)).orElse(null);
            if (auth.allows(null, secret)) {
                reauthentications.incrementAndGet();
                output.authenticateSuccessfully();
            } else {
                output.failAuthentication(DisconnectedReasonCode.NOT_AUTHORIZED, "bad token");
            }
        }

        @Override
        public void onAuth(EnhancedAuthInput input, EnhancedAuthOutput output) {
            output.failAuthentication(DisconnectedReasonCode.BAD_AUTHENTICATION_METHOD, "no multi-step exchange");
        }
    }

    private static String text(ByteBuffer b) {
        ByteBuffer copy = b.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
