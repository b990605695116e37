package dev.tether.mqtt;

import dev.tether.mqtt.internal.MessageAccess;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An application message: what is published and what a subscription delivers.
 *
 * <p>Immutable: {@link #of(String, byte[], MqttQos)}, {@link #of(String, String, MqttQos)} and
 * {@link Builder#payload(byte[])} copy the payload in, and {@link #payload()} copies it out, so nothing the caller does
 * with its arrays afterwards changes the message.
 *
 * <p><b>Without a copy.</b> A large payload costs its size again in allocation for that copy.
 * {@link #wrap(String, byte[], MqttQos)} and {@link Builder#wrapPayload(byte[])} hand the caller's array over to the
 * message instead: the message reads it from then on, and the caller promises that nobody changes the array any
 * more (see {@link #wrap(String, byte[], MqttQos)} for what happens if somebody does). One unchanged array may be
 * wrapped by many messages. {@link #payloadAsReadOnlyBuffer()} reads the payload without a copy.
 */
public final class MqttMessage {

    private final String topic;
    private final byte[] payload;
    private final MqttQos qos;
    private final boolean retain;
    private final @Nullable String contentType;
    private final Map<String, String> userProperties;

    static {
        // The library's own code reads the payload without copying it and hands over arrays it owns.
        MessageAccess.install(new MessageAccess.Access() {
            @Override
            public byte[] payload(MqttMessage message) {
                return message.payload;
            }

            @Override
            public MqttMessage create(String topic, byte[] ownedPayload, MqttQos qos, boolean retain,
                                      @Nullable String contentType, Map<String, String> userProperties) {
                return new MqttMessage(checkedTopic(topic), ownedPayload, qos, retain, contentType,
                        userProperties.isEmpty() ? Map.of() : Map.copyOf(userProperties));
            }
        });
    }

    private MqttMessage(Builder b) {
        this.topic = b.topic;
        // The builder's array is a private copy that nothing ever writes to, or an array the caller handed over
        // (wrapPayload): shared, not copied again.
        this.payload = b.payload;
        this.qos = b.qos;
        this.retain = b.retain;
        this.contentType = b.contentType;
        Map<String, String> user = b.userProperties;
        this.userProperties = user == null || user.isEmpty() ? Map.of() : Map.copyOf(user);
    }

    private MqttMessage(String topic, byte[] payload, MqttQos qos, boolean retain, @Nullable String contentType,
                        Map<String, String> userProperties) {
        this.topic = topic;
        this.payload = payload;
        this.qos = qos;
        this.retain = retain;
        this.contentType = contentType;
        this.userProperties = userProperties;
    }

    /**
     * @param topic   the topic name (no wildcards)
     * @param payload the payload, copied
     * @param qos     the quality of service
     * @return the message, not retained
     * @throws IllegalArgumentException if the topic is empty or has wildcards
     */
    public static MqttMessage of(String topic, byte[] payload, MqttQos qos) {
        // What the builder would do, without a builder: the publish path makes one of these per message.
        return new MqttMessage(checkedTopic(topic), Objects.requireNonNull(payload, "payload").clone(),
                Objects.requireNonNull(qos, "qos"), false, null, Map.of());
    }

    /**
     * A message that takes the caller's array as its payload, without copying it: what a publish of a large payload
     * should use. The array is handed over: from this call on, neither the caller nor anyone else may change it, for
     * as long as the message, a message built from it ({@link #toBuilder()}), or a publish of it may still be read.
     * The library never writes to it. Reading it, and wrapping the same unchanged array in other messages, is fine.
     *
     * <p>If the array is changed anyway, the message is no longer the value it was: {@link #equals(Object)},
     * {@link #hashCode()}, {@link #payload()} and {@link #payloadAsString()} follow the array, and a publish sends
     * whatever the array holds when its PUBLISH packet is encoded, which happens later on the connection's event loop,
     * and again for a resend after a reconnect (possibly a mix of old and new bytes if the change races with the
     * encoding). The size cannot change, so the size checks stay right. Use {@link #of(String, byte[], MqttQos)},
     * which copies, when the array will be reused.
     *
     * @param topic   the topic name (no wildcards)
     * @param payload the payload, not copied: the caller gives it up and never changes it again
     * @param qos     the quality of service
     * @return the message, not retained
     * @throws IllegalArgumentException if the topic is empty or has wildcards
     */
    public static MqttMessage wrap(String topic, byte[] payload, MqttQos qos) {
        return new MqttMessage(checkedTopic(topic), Objects.requireNonNull(payload, "payload"),
                Objects.requireNonNull(qos, "qos"), false, null, Map.of());
    }

    /**
     * @param topic   the topic name (no wildcards)
     * @param payload the payload, encoded as UTF-8
     * @param qos     the quality of service
     * @return the message, not retained
     */
    public static MqttMessage of(String topic, String payload, MqttQos qos) {
        return of(topic, payload.getBytes(StandardCharsets.UTF_8), qos);
    }

    /**
     * @param topic the topic name (no wildcards)
     * @return a builder with an empty payload, QoS 0, not retained
     * @throws IllegalArgumentException if the topic is empty or has wildcards
     */
    public static Builder builder(String topic) {
        return new Builder(topic);
    }

    /** @return the topic name */
    public String topic() {
        return topic;
    }

    /** @return a copy of the payload */
    public byte[] payload() {
        return payload.clone();
    }

    /**
     * The payload without a copy: a read-only view of the message's own bytes (position 0, limit and capacity the
     * payload size). Each call returns a new view; reading it does not change the message.
     *
     * @return a read-only buffer over the payload
     */
    public ByteBuffer payloadAsReadOnlyBuffer() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    /** @return the payload decoded as UTF-8 */
    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** @return the payload size in bytes */
    public int payloadSize() {
        return payload.length;
    }

    /** @return the quality of service (for a received message: the QoS it was delivered with) */
    public MqttQos qos() {
        return qos;
    }

    /** @return whether the message is (or was delivered as) retained */
    public boolean retain() {
        return retain;
    }

    /** @return the MQTT 5 content type, if any */
    public Optional<String> contentType() {
        return Optional.ofNullable(contentType);
    }

    /** @return the MQTT 5 user properties (a duplicated name keeps its last value) */
    public Map<String, String> userProperties() {
        return userProperties;
    }

    /** @return a builder prefilled with this message */
    public Builder toBuilder() {
        Builder b = new Builder(topic).qos(qos).retain(retain);
        // This message's array is never written to: the builder shares it until a new payload is set.
        b.payload = payload;
        b.contentType = contentType;
        if (!userProperties.isEmpty()) {
            b.userProperties().putAll(userProperties);
        }
        return b;
    }

    private static String checkedTopic(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty() || topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0 || topic.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("topic must be a non-empty topic name without wildcards, but was '" + topic + "'");
        }
        return topic;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MqttMessage m && topic.equals(m.topic) && Arrays.equals(payload, m.payload)
                && qos == m.qos && retain == m.retain && Objects.equals(contentType, m.contentType)
                && userProperties.equals(m.userProperties);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, Arrays.hashCode(payload), qos, retain, contentType, userProperties);
    }

    @Override
    public String toString() {
        return "MqttMessage{topic=" + topic + ", qos=" + qos.value() + ", retain=" + retain + ", payload="
                + payload.length + " bytes}";
    }

    /** Builds an {@link MqttMessage}; every setter validates at once. */
    public static final class Builder {
        private static final byte[] EMPTY = new byte[0];

        private final String topic;
        private byte[] payload = EMPTY;
        private MqttQos qos = MqttQos.AT_MOST_ONCE;
        private boolean retain;
        private @Nullable String contentType;
        /** Made on the first user property: most messages have none. */
        private @Nullable Map<String, String> userProperties;

        private Builder(String topic) {
            this.topic = checkedTopic(topic);
        }

        private Map<String, String> userProperties() {
            Map<String, String> m = userProperties;
            if (m == null) {
                m = new LinkedHashMap<>();
                userProperties = m;
            }
            return m;
        }

        /**
         * @param payload the payload, copied
         * @return this builder
         */
        public Builder payload(byte[] payload) {
            this.payload = Objects.requireNonNull(payload, "payload").clone();
            return this;
        }

        /**
         * The payload without a copy: the builder, and every message it builds, take the caller's array as it is.
         * The same contract as {@link MqttMessage#wrap(String, byte[], MqttQos)}: the caller gives the array up and
         * nobody changes it from this call on; if somebody does, the messages built from it change with it.
         *
         * @param payload the payload, not copied
         * @return this builder
         */
        public Builder wrapPayload(byte[] payload) {
            this.payload = Objects.requireNonNull(payload, "payload");
            return this;
        }

        /**
         * @param qos the quality of service; default QoS 0
         * @return this builder
         */
        public Builder qos(MqttQos qos) {
            this.qos = Objects.requireNonNull(qos, "qos");
            return this;
        }

        /**
         * @param retain whether the broker retains the message; default false
         * @return this builder
         */
        public Builder retain(boolean retain) {
            this.retain = retain;
            return this;
        }

        /**
         * @param contentType MQTT 5 content type (ignored by MQTT 3.1.1)
         * @return this builder
         */
        public Builder contentType(String contentType) {
            this.contentType = Objects.requireNonNull(contentType, "contentType");
            return this;
        }

        /**
         * @param name  MQTT 5 user property name (ignored by MQTT 3.1.1)
         * @param value its value
         * @return this builder
         */
        public Builder userProperty(String name, String value) {
            userProperties().put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** @return the message */
        public MqttMessage build() {
            return new MqttMessage(this);
        }
    }
}
