package dev.tether.samples.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The service's own settings, under {@code telemetry.*}; Tether's are under {@code tether.*} (the starter).
 *
 * @param topic the topic filter to subscribe to (default {@code telemetry/#})
 */
@ConfigurationProperties("telemetry")
public record TelemetryProperties(@Nullable String topic) {

    /** @return the topic filter */
    public String topicFilter() {
        return topic == null ? "telemetry/#" : topic;
    }
}
