package dev.tether.spring.boot;

import dev.tether.core.Jitter;
import dev.tether.core.OverflowPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Every Tether property, under {@code tether.*}. Immutable; bound once at start-up. A value the properties
 * cannot express (an endpoint, a key) is checked when the connection is built, and start-up stops with a
 * failure analysis naming the property, the bad value and what would be valid. Secrets are never shown by
 * {@code toString()}.
 *
 * @param mqtt      the MQTT clients
 * @param websocket the WebSocket server and clients
 * @param health    how connections report to Spring Boot's health endpoint
 */
@ConfigurationProperties("tether")
public record TetherProperties(@DefaultValue @NestedConfigurationProperty Mqtt mqtt,
                               @DefaultValue @NestedConfigurationProperty WebSocket websocket,
                               @DefaultValue @NestedConfigurationProperty Health health) {

    /**
     * The MQTT clients.
     *
     * @param clients one client per key; each becomes an MqttClient bean named after its key
     */
    public record Mqtt(@DefaultValue Map<String, MqttClient> clients) {
    }

    /**
     * One MQTT client: {@code tether.mqtt.clients.<name>.*}.
     *
     * @param endpoints       broker URIs in failover order (tcp://, ssl://, ws://, wss://);
     *                        at least one, unless a TetherMqttClientCustomizer adds it
     * @param clientId        the MQTT client id; a random tether- id when absent
     * @param version         the protocol version: 5 or 3.1.1
     * @param versionFallback whether a broker that refuses MQTT 5 is spoken to in 3.1.1; absent: yes unless the version
     *                        is pinned by setting it explicitly to 3.1.1
     * @param cleanStart      whether the session starts clean
     * @param sessionExpiry   how long the broker keeps the session after a disconnect (MQTT 5)
     * @param keepAlive       the keepalive interval
     * @param pingTimeout     how long to wait for PINGRESP
     * @param connackTimeout  how long to wait for CONNACK
     * @param will            the Last Will, if any
     * @param tls             TLS settings for ssl:// and wss:// endpoints
     * @param reconnect       the reconnect policy
     * @param offlineBuffer   publishes kept while disconnected
     * @param maxInFlight     client cap on QoS 1 and 2 publishes in flight (1 to 65535)
     * @param receiveMaximum  the Receive Maximum announced to the broker (1 to 65535)
     * @param drainTimeout    how long a graceful close waits for publishes in flight
     * @param jwt             a JWT credentials source, if the broker wants tokens
     */
    public record MqttClient(@DefaultValue List<String> endpoints, @Nullable String clientId,
                             @DefaultValue("5") String version, @Nullable Boolean versionFallback,
                             @DefaultValue("true") boolean cleanStart, @DefaultValue("0s") Duration sessionExpiry,
                             @DefaultValue("60s") Duration keepAlive, @DefaultValue("10s") Duration pingTimeout,
                             @DefaultValue("10s") Duration connackTimeout, @Nullable Will will,
                             @DefaultValue Tls tls, @DefaultValue Reconnect reconnect, @DefaultValue OfflineBuffer offlineBuffer,
                             @DefaultValue("100") int maxInFlight, @DefaultValue("100") int receiveMaximum,
                             @DefaultValue("5s") Duration drainTimeout, @Nullable Jwt jwt) {
    }

    /**
     * The Last Will: {@code tether.mqtt.clients.<name>.will.*}.
     *
     * @param topic   the topic (required)
     * @param payload the payload as UTF-8 text
     * @param qos     0, 1 or 2
     * @param retain  whether the broker retains it
     * @param delay   the Will delay (MQTT 5)
     */
    public record Will(@Nullable String topic, @DefaultValue("") String payload, @DefaultValue("0") int qos,
                       @DefaultValue("false") boolean retain, @DefaultValue("0s") Duration delay) {
    }

    /**
     * TLS (MQTT and WebSocket clients): verified always; these say whom to trust and which client certificate to show.
     *
     * @param bundle the name of a Spring SSL bundle (spring.ssl.bundle.*): its trust store decides which
     *               server certificates are trusted, its key store (if any) holds the client certificate; absent: the
     *               JDK's trust store
     */
    public record Tls(@Nullable String bundle) {
    }

    /**
     * The reconnect policy (exponential backoff with jitter), shared by MQTT and WebSocket clients.
     *
     * @param initialDelay the first delay
     * @param multiplier   growth per failure (at least 1)
     * @param maxDelay     the cap on the delay
     * @param jitter       full, equal or none
     * @param maxAttempts  attempts before giving up; 0 for unlimited
     * @param maxElapsed   time before giving up; absent for unlimited
     * @param stablePeriod how long a session must stay up before the backoff resets
     */
    public record Reconnect(@DefaultValue("1s") Duration initialDelay, @DefaultValue("3.0") double multiplier,
                            @DefaultValue("60s") Duration maxDelay, @DefaultValue("full") Jitter jitter,
                            @DefaultValue("0") int maxAttempts, @Nullable Duration maxElapsed,
                            @DefaultValue("10s") Duration stablePeriod) {
    }

    /**
     * The offline buffer of an MQTT client.
     *
     * @param capacity how many publishes wait while disconnected
     * @param overflow what happens when it is full: fail-newest, drop-oldest or drop-newest
     */
    public record OfflineBuffer(@DefaultValue("1000") int capacity, @DefaultValue("fail-newest") OverflowPolicy overflow) {
    }

    /**
     * A JWT credentials source: tokens signed here ({@code algorithm} with {@code secret} or {@code key-location}),
     * or fetched from an OAuth2 client-credentials endpoint ({@code token-endpoint}). Exactly one of the two.
     *
     * @param algorithm      HS256 (with secret), RS256 or ES256 (with key-location)
     * @param secret         the HS256 secret, at least 32 bytes
     * @param keyLocation    a PKCS#8 PEM private key (classpath:, file: or a path) for RS256 or ES256
     * @param keyId          the kid header
     * @param issuer         the iss claim
     * @param subject        the sub claim
     * @param audience       the aud claim
     * @param lifetime       the lifetime of each signed token
     * @param username       MQTT: the user name sent with the token as password (default: the client id);
     *                       WebSocket: unused
     * @param queryParameter WebSocket: send the token as this query parameter instead of
     *                       Authorization: Bearer
     * @param refreshSkew    how long before expiry a token is replaced
     * @param tokenEndpoint  an OAuth2 client-credentials token endpoint
     */
    public record Jwt(@Nullable String algorithm, @Nullable String secret, @Nullable String keyLocation,
                      @Nullable String keyId, @Nullable String issuer, @Nullable String subject,
                      @DefaultValue List<String> audience, @DefaultValue("5m") Duration lifetime,
                      @Nullable String username, @Nullable String queryParameter,
                      @DefaultValue("30s") Duration refreshSkew, @Nullable TokenEndpoint tokenEndpoint) {

        /** @return the settings, the secret hidden */
        @Override
        public String toString() {
            return "Jwt{algorithm=" + algorithm + ", secret=" + (secret == null ? "none" : "****") + ", keyLocation="
                    + keyLocation + ", subject=" + subject + ", lifetime=" + lifetime + ", tokenEndpoint=" + tokenEndpoint + "}";
        }
    }

    /**
     * An OAuth2 client-credentials token endpoint.
     *
     * @param uri          the token endpoint URI
     * @param clientId     the OAuth2 client id
     * @param clientSecret the OAuth2 client secret
     * @param scopes       the scopes asked for
     */
    public record TokenEndpoint(@Nullable String uri, @Nullable String clientId, @Nullable String clientSecret,
                                @DefaultValue List<String> scopes) {

        /** @return the settings, the secret hidden */
        @Override
        public String toString() {
            return "TokenEndpoint{uri=" + uri + ", clientId=" + clientId + ", clientSecret="
                    + (clientSecret == null ? "none" : "****") + ", scopes=" + scopes + "}";
        }
    }

    /**
     * The WebSocket server and clients.
     *
     * @param server  the server, started when the application has a TetherWebSocketHandler bean
     * @param clients one client per key; each becomes a ResilientConnection (of WebSocketSession) bean named
     *                after its key
     */
    public record WebSocket(@DefaultValue Server server, @DefaultValue Map<String, WebSocketClient> clients) {
    }

    /**
     * The WebSocket server: {@code tether.websocket.server.*}. On a listener of its own ({@code host}, {@code port})
     * beside Spring's HTTP server, or on Spring's own WebFlux server on Reactor Netty ({@code listener: spring}, same
     * port as the application's routes).
     *
     * @param enabled                whether to start it when a TetherWebSocketHandler bean exists
     * @param listener               where the server accepts connections: own (its own port, host and port below) or
     *                               spring (Spring WebFlux's server on Reactor Netty, server.port; host, port and
     *                               handshake-timeout are then Spring's and must not be set)
     * @param host                   the address to bind (listener own)
     * @param port                   the port; 0 for a free one (listener own)
     * @param path                   the upgrade path
     * @param subprotocols           the subprotocols offered
     * @param maxSessions            the cap on live sessions (absent: the library's default)
     * @param maxSessionsPerAddress  the cap per remote address (absent: the library's default)
     * @param maxFramePayload        the largest frame payload in bytes (absent: the library's default)
     * @param maxMessageBytes        the largest message in bytes (absent: the library's default)
     * @param handshakeTimeout       how long a connection may take to upgrade (listener own)
     * @param closeHandshakeTimeout  how long to wait for the peer's close frame
     * @param drainTimeout           how long shutdown waits for the sessions' close handshakes before aborting them
     * @param heartbeat              pings to every session
     * @param onebot                 the OneBot v11 lifecycle announcer
     */
    public record Server(@DefaultValue("true") boolean enabled, @DefaultValue("own") Listener listener,
                         @DefaultValue("0.0.0.0") String host,
                         @DefaultValue("0") int port, @DefaultValue("/") String path,
                         @DefaultValue List<String> subprotocols, @Nullable Integer maxSessions,
                         @Nullable Integer maxSessionsPerAddress, @Nullable Integer maxFramePayload,
                         @Nullable Integer maxMessageBytes, @DefaultValue("10s") Duration handshakeTimeout,
                         @DefaultValue("3s") Duration closeHandshakeTimeout, @DefaultValue("5s") Duration drainTimeout,
                         @DefaultValue Heartbeat heartbeat, @DefaultValue OneBot onebot) {
    }

    /** Where the WebSocket server accepts connections: {@code tether.websocket.server.listener}. */
    public enum Listener {
        /** A listener of its own on {@code tether.websocket.server.host} and {@code port}, beside Spring's server. */
        OWN,
        /**
         * Spring's own HTTP server (WebFlux on Reactor Netty): the path is mounted before the application's routes,
         * on {@code server.port}.
         */
        SPRING
    }

    /**
     * WebSocket heartbeat.
     *
     * @param enabled     whether to ping
     * @param interval    the ping interval
     * @param pongTimeout how long a pong may be overdue before the session is closed
     */
    public record Heartbeat(@DefaultValue("true") boolean enabled, @DefaultValue("15s") Duration interval,
                            @DefaultValue("10s") Duration pongTimeout) {
    }

    /**
     * The OneBot v11 announcer of the server: a {@code lifecycle} meta event on connect and a goodbye on drain.
     *
     * @param enabled           whether to announce
     * @param selfId            the bot's account id (self_id)
     * @param heartbeatInterval the OneBot heartbeat meta event interval; absent: the announcer's default (15 s)
     * @param enableDisable     whether enable/disable events are sent as well
     */
    public record OneBot(@DefaultValue("false") boolean enabled, @DefaultValue("0") long selfId,
                         @Nullable Duration heartbeatInterval, @DefaultValue("false") boolean enableDisable) {
    }

    /**
     * One WebSocket client: {@code tether.websocket.clients.<name>.*}.
     *
     * @param endpoints             ws:// or wss:// URIs in failover order (at least one)
     * @param headers               upgrade headers sent on every attempt
     * @param subprotocols          the subprotocols asked for
     * @param handshakeTimeout      how long the upgrade may take
     * @param closeHandshakeTimeout how long to wait for the peer's close frame
     * @param maxFramePayload       the largest frame payload in bytes (absent: the library's default)
     * @param maxMessageBytes       the largest message in bytes (absent: the library's default)
     * @param heartbeat             pings to the server
     * @param reconnect             the reconnect policy
     * @param reconnectOnNormalClosure whether a 1000 close from the server is retried
     * @param tls                   TLS settings for wss:// endpoints
     * @param jwt                   a JWT credentials source, if the server wants tokens
     */
    public record WebSocketClient(@DefaultValue List<String> endpoints, @DefaultValue Map<String, String> headers,
                                  @DefaultValue List<String> subprotocols, @DefaultValue("10s") Duration handshakeTimeout,
                                  @DefaultValue("3s") Duration closeHandshakeTimeout, @Nullable Integer maxFramePayload,
                                  @Nullable Integer maxMessageBytes, @DefaultValue Heartbeat heartbeat,
                                  @DefaultValue Reconnect reconnect, @DefaultValue("false") boolean reconnectOnNormalClosure,
                                  @DefaultValue Tls tls, @Nullable Jwt jwt) {

        /** @return the settings, header values hidden (they may carry keys) */
        @Override
        public String toString() {
            return "WebSocketClient{endpoints=" + endpoints + ", headers=" + headers.keySet() + ", subprotocols=" + subprotocols
                    + ", heartbeat=" + heartbeat + ", reconnect=" + reconnect + ", jwt=" + jwt + "}";
        }
    }

    /**
     * How connections report their health.
     *
     * @param readiness         whether the connections join the readiness health group (with the probes
     *                          enabled), so an instance whose broker is gone stops getting traffic
     * @param firstConnectGrace how long a connection that has never connected reports UNKNOWN (its first
     *                          attempts) before it reports DOWN
     */
    public record Health(@DefaultValue("false") boolean readiness, @DefaultValue("60s") Duration firstConnectGrace) {
    }
}
