package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Internal: how the library's own code reads an {@link MqttMessage}'s payload without copying it, and makes a
 * message around an array it owns (a received payload). {@link MqttMessage} stays immutable for users: its
 * public {@code payload()} returns a copy, and only arrays nobody else holds are handed over (here, or by the
 * caller of {@code MqttMessage.wrap}, who promises not to change them). The library never writes to a payload
 * array. Not for applications.
 */
public final class MessageAccess {

    /** What {@link MqttMessage} lends to the library's internals; installed once, by that class. */
    public interface Access {

        /**
         * @param message the message
         * @return its payload array itself, never to be written to
         */
        byte[] payload(MqttMessage message);

        /**
         * @param topic          the topic name, checked like the builder checks it
         * @param ownedPayload   the payload, no longer written to nor held by the caller
         * @param qos            the quality of service
         * @param retain         the retain flag
         * @param contentType    the MQTT 5 content type, or null
         * @param userProperties the MQTT 5 user properties, copied
         * @return the message
         */
        MqttMessage create(String topic, byte[] ownedPayload, MqttQos qos, boolean retain, @Nullable String contentType,
                           Map<String, String> userProperties);
    }

    private static volatile @Nullable Access access;

    private MessageAccess() {
    }

    /**
     * Called once by {@link MqttMessage}'s class initializer.
     *
     * @param a the access
     * @throws IllegalStateException if called again
     */
    public static synchronized void install(Access a) {
        if (access != null) {
            throw new IllegalStateException("MessageAccess is installed by MqttMessage only, once");
        }
        access = Objects.requireNonNull(a, "access");
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            // MqttMessage's class initializer installs it: run it.
            try {
                Class.forName(MqttMessage.class.getName(), true, MqttMessage.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            a = access;
            if (a == null) {
                throw new IllegalStateException("MqttMessage did not install its access");
            }
        }
        return a;
    }

    /**
     * @param message the message
     * @return its payload array itself: read it, never write to it nor hand it to user code
     */
    static byte[] payload(MqttMessage message) {
        return access().payload(message);
    }

    /** A message around a payload array the caller owns and gives up (no copy). */
    static MqttMessage create(String topic, byte[] ownedPayload, MqttQos qos, boolean retain, @Nullable String contentType,
                              Map<String, String> userProperties) {
        return access().create(topic, ownedPayload, qos, retain, contentType, userProperties);
    }
}
