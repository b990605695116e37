package dev.tether.samples.spring;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the telemetry service, under {@code tether.*}.
 *
 * @param mqttUri     the broker, or {@code embedded} (the default) for an embedded broker that checks JWTs
 * @param topic       the topic filter to subscribe to (default {@code telemetry/#})
 * @param jwtSecret   the HS256 secret tokens are signed with (at least 32 bytes); with the embedded broker a
 *                    random one is generated when absent
 * @param jwtTtl      the lifetime of each token (default 5 minutes)
 * @param wsPort      the port of the Tether WebSocket endpoint (default 8081, 0 for a free one)
 * @param wsPath      its path (default {@code /telemetry})
 * @param drainTimeout how long shutdown waits for WebSocket close handshakes (default 5 s)
 */
@ConfigurationProperties("tether")
public record TelemetryProperties(@Nullable String mqttUri, @Nullable String topic, @Nullable String jwtSecret,
                                  @Nullable Duration jwtTtl, @Nullable Integer wsPort, @Nullable String wsPath,
                                  @Nullable Duration drainTimeout) {

    /** @return the broker URI or {@code embedded} */
    public String brokerUri() {
        return mqttUri == null || mqttUri.isBlank() ? "embedded" : mqttUri;
    }

    /** @return the topic filter */
    public String topicFilter() {
        return topic == null ? "telemetry/#" : topic;
    }

    /** @return the token lifetime */
    public Duration tokenLifetime() {
        return jwtTtl == null ? Duration.ofMinutes(5) : jwtTtl;
    }

    /** @return the WebSocket port */
    public int webSocketPort() {
        return wsPort == null ? 8081 : wsPort;
    }

    /** @return the WebSocket path */
    public String webSocketPath() {
        return wsPath == null ? "/telemetry" : wsPath;
    }

    /** @return the drain bound on shutdown */
    public Duration drain() {
        return drainTimeout == null ? Duration.ofSeconds(5) : drainTimeout;
    }

    /** Hides the secret. */
    @Override
    public String toString() {
        return "TelemetryProperties{mqttUri=" + brokerUri() + ", topic=" + topicFilter() + ", jwtSecret="
                + (jwtSecret == null ? "none" : "****") + ", wsPort=" + webSocketPort() + "}";
    }
}
