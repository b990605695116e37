package dev.tether.spring.boot.internal;

import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import dev.tether.spring.boot.InvalidTetherPropertyException;
import dev.tether.spring.boot.TetherMqttClientCustomizer;
import dev.tether.spring.boot.TetherProperties;
import dev.tether.spring.boot.TetherWebSocketClientCustomizer;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketSessionSpec;
import java.time.Duration;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.Key;
import javax.net.ssl.SSLException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.io.ResourceLoader;

/**
 * Builds the named clients from {@link TetherProperties}, each failure naming its property, and records each one
 * in {@link TetherConnections}.
 */
public final class ConnectionFactory {

    private final TetherProperties properties;
    private final TetherConnections connections;
    private final List<TetherMqttClientCustomizer> mqttCustomizers;
    private final List<TetherWebSocketClientCustomizer> webSocketCustomizers;
    private final @Nullable RetryRegistry retryRegistry;
    private final @Nullable CircuitBreakerRegistry circuitBreakerRegistry;
    private final @Nullable SslBundles sslBundles;
    private final ResourceLoader resourceLoader;

    /**
     * @param properties             the bound properties
     * @param connections            where built connections are recorded
     * @param mqttCustomizers        applied to every MQTT client's builder, in order
     * @param webSocketCustomizers   applied to every WebSocket client's builder, in order
     * @param retryRegistry          the application's Resilience4j retry registry, if any
     * @param circuitBreakerRegistry the application's Resilience4j circuit-breaker registry, if any
     * @param sslBundles             Spring's SSL bundles, if any
     * @param resourceLoader         resolves key locations
     */
    public ConnectionFactory(TetherProperties properties, TetherConnections connections,
                             List<TetherMqttClientCustomizer> mqttCustomizers,
                             List<TetherWebSocketClientCustomizer> webSocketCustomizers, @Nullable RetryRegistry retryRegistry,
                             @Nullable CircuitBreakerRegistry circuitBreakerRegistry, @Nullable SslBundles sslBundles,
                             ResourceLoader resourceLoader) {
        this.properties = properties;
        this.connections = connections;
        this.mqttCustomizers = List.copyOf(mqttCustomizers);
        this.webSocketCustomizers = List.copyOf(webSocketCustomizers);
        this.retryRegistry = retryRegistry;
        this.circuitBreakerRegistry = circuitBreakerRegistry;
        this.sslBundles = sslBundles;
        this.resourceLoader = resourceLoader;
    }

    /**
     * @param name the key in {@code tether.mqtt.clients}
     * @return the client, not started
     */
    public MqttClient mqttClient(String name) {
        TetherProperties.MqttClient c = properties.mqtt().clients().get(name);
        if (c == null) {
            throw new IllegalStateException("no tether.mqtt.clients." + name);
        }
        String p = "tether.mqtt.clients." + name;
        MqttClient.Builder b = MqttClient.builder().name(name);
        for (int i = 0; i < c.endpoints().size(); i++) {
            String uri = c.endpoints().get(i);
            Check.apply(p + ".endpoints[" + i + "]", uri, () -> b.endpoint(uri));
        }
        String clientId = c.clientId();
        if (clientId != null) {
            Check.apply(p + ".client-id", clientId, () -> b.clientId(clientId));
        }
        MqttVersion version = version(p + ".version", c.version());
        b.version(version);
        Boolean fallback = c.versionFallback();
        if (fallback != null) {
            b.versionFallback(fallback);
        }
        b.cleanStart(c.cleanStart());
        Check.apply(p + ".session-expiry", c.sessionExpiry(), () -> b.sessionExpiry(c.sessionExpiry()));
        Check.apply(p + ".keep-alive", c.keepAlive(), () -> b.keepAlive(c.keepAlive()));
        Check.apply(p + ".ping-timeout", c.pingTimeout(), () -> b.pingTimeout(c.pingTimeout()));
        Check.apply(p + ".connack-timeout", c.connackTimeout(), () -> b.connackTimeout(c.connackTimeout()));
        Check.apply(p + ".drain-timeout", c.drainTimeout(), () -> b.drainTimeout(c.drainTimeout()));
        Check.apply(p + ".max-in-flight", c.maxInFlight(), () -> b.maxInFlight(c.maxInFlight()));
        Check.apply(p + ".receive-maximum", c.receiveMaximum(), () -> b.receiveMaximum(c.receiveMaximum()));
        Check.apply(p + ".offline-buffer.capacity", c.offlineBuffer().capacity(),
                () -> b.offlineBuffer(c.offlineBuffer().capacity(), c.offlineBuffer().overflow()));
        TetherProperties.Will will = c.will();
        if (will != null) {
            b.will(will(p + ".will", will));
        }
        tls(p + ".tls.bundle", c.tls().bundle(), b);
        b.reconnect(reconnect(name, p, c.reconnect()));
        TetherProperties.Jwt jwt = c.jwt();
        if (jwt != null) {
            String username = jwt.username() != null ? jwt.username() : clientId != null ? clientId : name;
            CredentialsProvider tokens = Credentials.jwt(p, jwt, TokenMapping.password(username), name + "-tokens",
                    resourceLoader);
            b.credentials(tokens);
        }
        for (TetherMqttClientCustomizer customizer : mqttCustomizers) {
            customizer.customize(name, b);
        }
        MqttClient client = build(p, c.endpoints(), b::build);
        connections.add(new ManagedConnection(name, "mqtt", client.connection(), c.endpoints(), client, client::start,
                client::close));
        return client;
    }

    /**
     * @param name the key in {@code tether.websocket.clients}
     * @return the resilient WebSocket connection, not started
     */
    public ResilientConnection<WebSocketSession> webSocketClient(String name) {
        TetherProperties.WebSocketClient c = properties.websocket().clients().get(name);
        if (c == null) {
            throw new IllegalStateException("no tether.websocket.clients." + name);
        }
        String p = "tether.websocket.clients." + name;
        if (c.endpoints().isEmpty()) {
            throw Check.missing(p + ".endpoints", "at least one ws:// or wss:// URI, e.g. ws://service.example:8080/events");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < c.endpoints().size(); i++) {
            String uri = c.endpoints().get(i);
            Endpoint e = Check.get(p + ".endpoints[" + i + "]", uri, () -> Endpoint.of(uri));
            if (!e.scheme().equals("ws") && !e.scheme().equals("wss")) {
                throw new InvalidTetherPropertyException(p + ".endpoints[" + i + "]", uri, "a ws:// or wss:// URI");
            }
            endpoints.add(e);
        }
        WebSocketClient.Builder w = WebSocketClient.builder();
        Map<String, String> headers = Collections.unmodifiableMap(new LinkedHashMap<>(c.headers()));
        if (!headers.isEmpty()) {
            w.headers(a -> {
                Map<String, String> all = new LinkedHashMap<>(headers);
                all.putAll(WebSocketClient.defaultHeaders(a.credentials()));
                return all;
            });
        }
        if (!c.subprotocols().isEmpty()) {
            Check.apply(p + ".subprotocols", c.subprotocols(), () -> w.subprotocols(c.subprotocols().toArray(String[]::new)));
        }
        Check.apply(p + ".handshake-timeout", c.handshakeTimeout(), () -> w.handshakeTimeout(c.handshakeTimeout()));
        w.session(session(p, c.closeHandshakeTimeout(), c.maxFramePayload(), c.maxMessageBytes(), c.heartbeat()));
        w.verdicts(v -> v.reconnectOnNormalClosure(c.reconnectOnNormalClosure()));
        String bundleName = c.tls().bundle();
        if (bundleName != null) {
            SslBundle bundle = bundle(p + ".tls.bundle", bundleName);
            w.sslContext(Check.get(p + ".tls.bundle", bundleName, () -> webSocketTls(bundle)));
        }
        for (TetherWebSocketClientCustomizer customizer : webSocketCustomizers) {
            customizer.customize(name, w);
        }
        ResilientConnection.Builder<WebSocketSession> r = ResilientConnection.builder(w.build()).endpoints(endpoints)
                .reconnect(reconnect(name, p, c.reconnect())).name(name);
        TetherProperties.Jwt jwt = c.jwt();
        if (jwt != null) {
            String query = jwt.queryParameter();
            TokenMapping mapping = query != null
                    ? Check.get(p + ".jwt.query-parameter", query, () -> TokenMapping.queryParameter(query))
                    : TokenMapping.bearerHeader();
            r.credentials(Credentials.jwt(p, jwt, mapping, name + "-tokens", resourceLoader));
        }
        ResilientConnection<WebSocketSession> connection = build(p, c.endpoints(), r::build);
        connections.add(new ManagedConnection(name, "websocket", connection, c.endpoints(), null, connection::start,
                connection::close));
        return connection;
    }

    private static <T> T build(String p, List<String> endpoints, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            if (message.startsWith("endpoints")) {
                throw Check.missing(p + ".endpoints", "at least one broker URI (tcp://, ssl://, ws:// or wss://), e.g. "
                        + "tcp://broker.example:1883");
            }
            throw new InvalidTetherPropertyException(p, "endpoints=" + endpoints, message);
        }
    }

    /**
     * @param name       the connection's name, which its Resilience4j instances take
     * @param connection the connection's property prefix, e.g. {@code tether.mqtt.clients.telemetry}
     * @param r          the settings
     * @return the policy, with the application's Resilience4j registries
     * @throws InvalidTetherPropertyException if the application's retry registry already holds a Retry of that name
     */
    public ReconnectPolicy reconnect(String name, String connection, TetherProperties.Reconnect r) {
        String p = connection + ".reconnect";
        if (retryRegistry != null && retryRegistry.find(name).isPresent()) {
            // Resilience4j's Spring module creates a Retry for every resilience4j.retry.instances entry at start-up.
            throw new InvalidTetherPropertyException(connection, name, "a connection name that no Retry in the "
                    + "application's Resilience4j RetryRegistry has; '" + name + "' is there already (a resilience4j.retry"
                    + ".instances." + name + " entry?), but a connection's retries follow " + p + ".*: remove that entry "
                    + "or rename the connection");
        }
        ReconnectPolicy.Builder b = ReconnectPolicy.builder();
        Check.apply(p + ".initial-delay", r.initialDelay(), () -> b.initialDelay(r.initialDelay()));
        Check.apply(p + ".multiplier", r.multiplier(), () -> b.multiplier(r.multiplier()));
        Check.apply(p + ".max-delay", r.maxDelay(), () -> b.maxDelay(r.maxDelay()));
        b.jitter(r.jitter());
        Check.apply(p + ".max-attempts", r.maxAttempts(), () -> b.maxAttempts(r.maxAttempts()));
        Check.apply(p + ".max-elapsed", r.maxElapsed(), () -> b.maxElapsed(r.maxElapsed()));
        Check.apply(p + ".stable-period", r.stablePeriod(), () -> b.stablePeriod(r.stablePeriod()));
        b.retryRegistry(retryRegistry);
        b.circuitBreakerRegistry(circuitBreakerRegistry);
        return Check.get(p + ".initial-delay", r.initialDelay(), b::build);
    }

    /**
     * @param p                     the property prefix
     * @param closeHandshakeTimeout how long to wait for the peer's close frame
     * @param maxFramePayload       the frame limit, or null for the default
     * @param maxMessageBytes       the message limit, or null for the default
     * @param heartbeat             the heartbeat settings
     * @return the session settings shared by the WebSocket client and server builders
     */
    static WebSocketSessionSpec session(String p, Duration closeHandshakeTimeout, @Nullable Integer maxFramePayload,
                                        @Nullable Integer maxMessageBytes, TetherProperties.Heartbeat heartbeat) {
        WebSocketSessionSpec.Builder s = WebSocketSessionSpec.builder();
        Check.apply(p + ".close-handshake-timeout", closeHandshakeTimeout, () -> s.closeHandshakeTimeout(closeHandshakeTimeout));
        if (maxFramePayload != null) {
            Check.apply(p + ".max-frame-payload", maxFramePayload, () -> s.maxFramePayload(maxFramePayload));
        }
        if (maxMessageBytes != null) {
            Check.apply(p + ".max-message-bytes", maxMessageBytes, () -> s.maxMessageBytes(maxMessageBytes));
        }
        s.heartbeat(heartbeat(p + ".heartbeat", heartbeat));
        return Check.get(p + ".max-message-bytes", maxMessageBytes, s::build);
    }

    static Heartbeat heartbeat(String p, TetherProperties.Heartbeat h) {
        if (!h.enabled()) {
            return Heartbeat.disabled();
        }
        return Check.get(p + ".interval", h.interval(), () -> Heartbeat.of(h.interval(), h.pongTimeout()));
    }

    private static MqttVersion version(String property, String value) {
        String v = value.trim().toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
        return switch (v) {
            case "5", "MQTT_5", "MQTT5" -> MqttVersion.MQTT_5;
            case "3_1_1", "MQTT_3_1_1", "MQTT311" -> MqttVersion.MQTT_3_1_1;
            default -> throw new InvalidTetherPropertyException(property, value, "5 or 3.1.1");
        };
    }

    private static MqttWill will(String p, TetherProperties.Will w) {
        String topic = w.topic();
        if (topic == null || topic.isEmpty()) {
            throw Check.missing(p + ".topic", "the topic the broker publishes the Will to");
        }
        MqttQos qos = Check.get(p + ".qos", w.qos(), () -> MqttQos.of(w.qos()));
        MqttMessage message = Check.get(p + ".topic", topic, () -> MqttMessage.builder(topic)
                .payload(w.payload().getBytes(java.nio.charset.StandardCharsets.UTF_8)).qos(qos).retain(w.retain()).build());
        MqttWill.Builder b = MqttWill.builder(message);
        Check.apply(p + ".delay", w.delay(), () -> b.delay(w.delay()));
        return b.build();
    }

    private SslBundle bundle(String property, String bundleName) {
        SslBundles bundles = sslBundles;
        if (bundles == null) {
            throw new InvalidTetherPropertyException(property, bundleName, "a Spring SSL bundle, but the application has no "
                    + "SslBundles bean");
        }
        try {
            return bundles.getBundle(bundleName);
        } catch (NoSuchSslBundleException e) {
            throw new InvalidTetherPropertyException(property, bundleName, "the name of a bundle under "
                    + "spring.ssl.bundle.jks.<name> or spring.ssl.bundle.pem.<name>");
        }
    }

    /** The bundle's trust (and key, if any) for Reactor Netty's client; host names are still verified. */
    private static SslContext webSocketTls(SslBundle bundle) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().trustManager(bundle.getManagers().getTrustManagerFactory());
            if (bundle.getStores().getKeyStore() != null) {
                b.keyManager(bundle.getManagers().getKeyManagerFactory());
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("a bundle Netty can build a TLS context from: " + e.getMessage(), e);
        }
    }

    private void tls(String property, @Nullable String bundleName, MqttClient.Builder b) {
        if (bundleName == null) {
            return;
        }
        SslBundle bundle = bundle(property, bundleName);
        KeyStore trust = bundle.getStores().getTrustStore();
        if (trust != null) {
            b.trustStore(trust);
        }
        KeyStore keys = bundle.getStores().getKeyStore();
        if (keys == null) {
            return;
        }
        try {
            String alias = bundle.getKey().getAlias();
            if (alias == null) {
                for (String a : Collections.list(keys.aliases())) {
                    if (keys.isKeyEntry(a)) {
                        alias = a;
                        break;
                    }
                }
            }
            if (alias == null) {
                throw new InvalidTetherPropertyException(property, bundleName, "a bundle whose key store holds a private key "
                        + "(or no key store at all)");
            }
            String password = bundle.getKey().getPassword() != null ? bundle.getKey().getPassword()
                    : bundle.getStores().getKeyStorePassword();
            Key key = keys.getKey(alias, password == null ? new char[0] : password.toCharArray());
            Certificate[] chain = keys.getCertificateChain(alias);
            if (!(key instanceof PrivateKey pk) || chain == null) {
                throw new InvalidTetherPropertyException(property, bundleName, "a bundle whose key entry '" + alias
                        + "' holds a private key and its certificate chain");
            }
            List<X509Certificate> certificates = new ArrayList<>();
            for (Certificate cert : chain) {
                certificates.add((X509Certificate) cert);
            }
            Check.apply(property, bundleName, () -> b.clientCertificate(pk, certificates.toArray(X509Certificate[]::new)));
        } catch (KeyStoreException | NoSuchAlgorithmException | UnrecoverableKeyException e) {
            throw new InvalidTetherPropertyException(property, bundleName, "a bundle whose client key can be read: " + e);
        }
    }
}
