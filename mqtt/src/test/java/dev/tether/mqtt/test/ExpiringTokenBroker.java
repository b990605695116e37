package dev.tether.mqtt.test;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.EnhancedAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthConnectInput;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.EnhancedAuthOutput;
import com.hivemq.extension.sdk.api.packets.connect.ConnectPacket;
import com.hivemq.extension.sdk.api.packets.disconnect.DisconnectReasonCode;
import com.hivemq.extension.sdk.api.packets.general.DisconnectedReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.jwt.InvalidJwtException;
import dev.tether.jwt.JwtVerifier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.text.ParseException;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Embedded HiveMQ CE that admits a client only with a valid JWT (MQTT 5: authentication method
 * {@code token}, the JWT as authentication data; MQTT 3.1.1: the JWT as password) and ends its
 * session when that token expires, as brokers that enforce token lifetimes do. A re-authentication
 * (AUTH 0x19) with a fresh valid token moves the deadline; a new CONNECT of the same client id
 * replaces it. Counts connects, re-authentications, refused tokens and expiry disconnects per client,
 * and records the key ids ({@code kid}) of the tokens it admitted.
 *
 * <p>{@link #startWithoutReauthentication} starts a broker that admits tokens at CONNECT only and
 * answers every re-authentication (AUTH 0x19) with DISCONNECT 0x8C (bad authentication method), as
 * brokers without re-authentication support do.
 */
public final class ExpiringTokenBroker implements AutoCloseable {

    /** The enhanced authentication method the broker understands. */
    public static final String TOKEN_METHOD = "token";

    private final JwtVerifier verifier;
    private final boolean reauthentication;
    private final int tcpPort = Ports.free();
    private final EmbeddedHiveMQ hivemq;
    private final ConcurrentHashMap<String, ScheduledFuture<?>> deadlines = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> connects = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> reauths = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> expired = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> refused = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> reauthsRefused = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<String>> keyIds = new ConcurrentHashMap<>();
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, List<Long>> checkMillis = new ConcurrentHashMap<>();

    private ExpiringTokenBroker(JwtVerifier verifier, boolean reauthentication) {
        this.verifier = verifier;
        this.reauthentication = reauthentication;
        try {
            Path root = Files.createTempDirectory("hivemq-expiring");
            Path conf = Files.createDirectories(root.resolve("conf"));
            Files.writeString(conf.resolve("config.xml"), """
                    <?xml version="1.0"?>
                    <hivemq>
                      <listeners>
                        <tcp-listener><port>%d</port><bind-address>127.0.0.1</bind-address></tcp-listener>
                      </listeners>
                      <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                    </hivemq>
                    """.formatted(tcpPort), StandardCharsets.UTF_8);
            hivemq = EmbeddedHiveMQ.builder()
                    .withConfigurationFolder(conf)
                    .withDataFolder(Files.createDirectories(root.resolve("data")))
                    .withExtensionsFolder(Files.createDirectories(root.resolve("extensions")))
                    .withEmbeddedExtension(EmbeddedExtension.builder().withId("tether-expiring-auth").withName("expiring auth")
                            .withVersion("1").withExtensionMain(new AuthExtension()).build())
                    .withoutLoggingBootstrap()
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param verifier checks the tokens (signature, and expiry at admission)
     * @return a started broker
     */
    public static ExpiringTokenBroker start(JwtVerifier verifier) {
        ExpiringTokenBroker b = new ExpiringTokenBroker(verifier, true);
        b.hivemq.start().join();
        return b;
    }

    /**
     * @param verifier checks the tokens (signature, and expiry at admission)
     * @return a started broker that refuses every re-authentication with DISCONNECT 0x8C
     */
    public static ExpiringTokenBroker startWithoutReauthentication(JwtVerifier verifier) {
        ExpiringTokenBroker b = new ExpiringTokenBroker(verifier, false);
        b.hivemq.start().join();
        return b;
    }

    /** @return e.g. {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + tcpPort;
    }

    /**
     * @param clientId a client id
     * @return how many times the broker ended that client's session because its token expired
     */
    public int expiryDisconnects(String clientId) {
        return count(expired, clientId);
    }

    /**
     * @param clientId a client id
     * @return how many CONNECTs of that client the broker admitted
     */
    public int connects(String clientId) {
        return count(connects, clientId);
    }

    /**
     * @param clientId a client id
     * @return how many re-authentications of that client the broker accepted
     */
    public int reauthentications(String clientId) {
        return count(reauths, clientId);
    }

    /**
     * @param clientId a client id
     * @return how many of that client's tokens the broker refused (at CONNECT or at re-authentication)
     */
    public int refusedTokens(String clientId) {
        return count(refused, clientId);
    }

    /**
     * @param clientId a client id
     * @return how many re-authentications of that client the broker refused because it does not support them
     */
    public int reauthenticationsRefused(String clientId) {
        return count(reauthsRefused, clientId);
    }

    /** @return every refusal of a token, as "client id: reason" (for failure messages) */
    public List<String> refusals() {
        return List.copyOf(refusals);
    }

    /**
     * @param clientId a client id
     * @return the key ids of that client's admitted tokens, in the order first seen
     */
    public List<String> keyIds(String clientId) {
        Set<String> ids = keyIds.get(clientId);
        return ids == null ? List.of() : List.copyOf(ids);
    }

    /**
     * @param clientId a client id
     * @return how long each check of that client's tokens took, in ms, in order (a key-set fetch shows here)
     */
    public List<Long> checkMillis(String clientId) {
        List<Long> ms = checkMillis.get(clientId);
        return ms == null ? List.of() : List.copyOf(ms);
    }

    private static int count(ConcurrentHashMap<String, AtomicInteger> map, String id) {
        AtomicInteger n = map.get(id);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        // Pending deadlines would hold the extension executor (and the broker's stop) for minutes.
        deadlines.values().forEach(f -> f.cancel(false));
        deadlines.clear();
        hivemq.stop().join();
    }

    /** Admits the token and moves the client's deadline to its expiry; returns null if accepted. */
    private String admit(String clientId, String token) {
        Instant exp;
        long started = System.nanoTime();
        try {
            var claims = verifier.verify(token);
            exp = claims.getExpirationTime().toInstant();
        } catch (InvalidJwtException e) {
            refused.computeIfAbsent(clientId, k -> new AtomicInteger()).incrementAndGet();
            refusals.add(clientId + ": " + e.reason() + " " + e.getMessage());
            return e.reason().name();
        }
        checkMillis.computeIfAbsent(clientId, k -> new CopyOnWriteArrayList<>())
                .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        try {
            String kid = SignedJWT.parse(token).getHeader().getKeyID();
            keyIds.computeIfAbsent(clientId, k -> Collections.synchronizedSet(new LinkedHashSet<>())).add(kid == null ? "-" : kid);
        } catch (ParseException e) {
            throw new IllegalStateException("a verified token did not parse", e);
        }
        long delay = Math.max(0, Duration.between(Instant.now(), exp).toMillis());
        ScheduledFuture<?> next = Services.extensionExecutorService().schedule(() -> {
            Services.clientService().disconnectClient(clientId, false, DisconnectReasonCode.NOT_AUTHORIZED, "token expired")
                    .thenAccept(wasConnected -> {
                        if (wasConnected) {
                            expired.computeIfAbsent(clientId, k -> new AtomicInteger()).incrementAndGet();
                        }
                    });
        }, delay, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> before = deadlines.put(clientId, next);
        if (before != null) {
            before.cancel(false);
        }
        return null;
    }

    private final class AuthExtension implements ExtensionMain {
        @Override
        public void extensionStart(ExtensionStartInput in, ExtensionStartOutput out) {
            Services.securityRegistry().setEnhancedAuthenticatorProvider(input -> new Authenticator());
        }

        @Override
        public void extensionStop(ExtensionStopInput in, ExtensionStopOutput out) {
        }
    }

    private final class Authenticator implements EnhancedAuthenticator {
        @Override
        public void onConnect(EnhancedAuthConnectInput input, EnhancedAuthOutput output) {
            ConnectPacket c = input.getConnectPacket();
            String token = c.getAuthenticationMethod().isPresent()
                    ? c.getAuthenticationData().map(ExpiringTokenBroker::text).orElse(null)
                    : c.getPassword().map(ExpiringTokenBroker::text).orElse(null);
            String refusal = token == null ? "no token" : admit(c.getClientId(), token);
            if (refusal == null) {
                connects.computeIfAbsent(c.getClientId(), k -> new AtomicInteger()).incrementAndGet();
                output.authenticateSuccessfully();
            } else {
                output.failAuthentication(DisconnectedReasonCode.NOT_AUTHORIZED, "token refused: " + refusal);
            }
        }

        @Override
        public void onReAuth(EnhancedAuthInput input, EnhancedAuthOutput output) {
            String clientId = input.getClientInformation().getClientId();
            if (!reauthentication) {
                reauthsRefused.computeIfAbsent(clientId, k -> new AtomicInteger()).incrementAndGet();
                output.failAuthentication(DisconnectedReasonCode.BAD_AUTHENTICATION_METHOD, "re-authentication is not supported");
                return;
            }
            String token = input.getAuthPacket().getAuthenticationDataAsArray()
                    .map(b -> new String(b, StandardCharsets.UTF_8)).orElse(null);
            String refusal = token == null ? "no token" : admit(clientId, token);
            if (refusal == null) {
                reauths.computeIfAbsent(clientId, k -> new AtomicInteger()).incrementAndGet();
                output.authenticateSuccessfully();
            } else {
                output.failAuthentication(DisconnectedReasonCode.NOT_AUTHORIZED, "token refused: " + refusal);
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
