package dev.tether.mqtt;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The Last Will: the message the broker publishes when the connection ends without a normal
 * DISCONNECT (abort, network loss, keepalive loss, or MQTT 5 DISCONNECT 0x04).
 *
 * <p>Immutable; create it with {@link #builder(MqttMessage)}.
 */
public final class MqttWill {

    /** Default MQTT 5 Will Delay Interval: zero (publish at once). */
    public static final Duration DEFAULT_DELAY = Duration.ZERO;

    private final MqttMessage message;
    private final Duration delay;
    private final @Nullable Duration messageExpiry;

    private MqttWill(Builder b) {
        this.message = b.message;
        this.delay = b.delay;
        this.messageExpiry = b.messageExpiry;
    }

    /**
     * @param message the Will's topic, payload, QoS, retain flag and MQTT 5 properties
     * @return a builder
     */
    public static Builder builder(MqttMessage message) {
        return new Builder(message);
    }

    /** @return a builder prefilled with this Will's settings */
    public Builder toBuilder() {
        Builder b = new Builder(message);
        b.delay = delay;
        b.messageExpiry = messageExpiry;
        return b;
    }

    /**
     * @param message the Will message
     * @return a Will published at once
     */
    public static MqttWill of(MqttMessage message) {
        return builder(message).build();
    }

    /** @return the Will message */
    public MqttMessage message() {
        return message;
    }

    /** @return the MQTT 5 Will Delay Interval */
    public Duration delay() {
        return delay;
    }

    /** @return the MQTT 5 Message Expiry Interval of the Will, if set */
    public Optional<Duration> messageExpiry() {
        return Optional.ofNullable(messageExpiry);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MqttWill w && message.equals(w.message) && delay.equals(w.delay)
                && Objects.equals(messageExpiry, w.messageExpiry);
    }

    @Override
    public int hashCode() {
        return Objects.hash(message, delay, messageExpiry);
    }

    @Override
    public String toString() {
        return "MqttWill{" + message + ", delay=" + delay + "}";
    }

    /** Builds an {@link MqttWill}. */
    public static final class Builder {
        private final MqttMessage message;
        private Duration delay = DEFAULT_DELAY;
        private @Nullable Duration messageExpiry;

        private Builder(MqttMessage message) {
            this.message = Objects.requireNonNull(message, "message");
        }

        /**
         * @param delay MQTT 5 Will Delay Interval, whole seconds; default {@link #DEFAULT_DELAY}
         * @return this builder
         * @throws IllegalArgumentException if negative or above 2^32-1 seconds
         */
        public Builder delay(Duration delay) {
            this.delay = seconds("delay", delay);
            return this;
        }

        /**
         * @param expiry MQTT 5 Message Expiry Interval of the Will, whole seconds
         * @return this builder
         * @throws IllegalArgumentException if negative or above 2^32-1 seconds
         */
        public Builder messageExpiry(Duration expiry) {
            this.messageExpiry = seconds("messageExpiry", expiry);
            return this;
        }

        /** @return the Will */
        public MqttWill build() {
            return new MqttWill(this);
        }

        private static Duration seconds(String field, Duration d) {
            Objects.requireNonNull(d, field);
            if (d.isNegative() || d.getSeconds() > 0xFFFFFFFFL) {
                throw new IllegalArgumentException(field + " must be between 0 and 4294967295 s, but was " + d);
            }
            return d;
        }
    }
}
