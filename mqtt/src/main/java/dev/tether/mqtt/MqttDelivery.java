package dev.tether.mqtt;

/**
 * A message received on a subscription with manual acknowledgement
 * ({@link MqttClient#subscribeWithAcknowledgement(MqttSubscription)}): the broker's acknowledgement of a
 * QoS 1 or 2 message (PUBACK, or PUBREC for QoS 2) is sent only after {@link #acknowledge()} was called by
 * every such subscriber the message went to, and after every earlier message was acknowledged (MQTT
 * sends acknowledgements in the order the messages arrived). A message never acknowledged is redelivered
 * by a broker that keeps the session, after the connection ends.
 *
 * <p>Thread-safe. Not meant to be implemented by users.
 */
public interface MqttDelivery {

    /** @return the message */
    MqttMessage message();

    /**
     * Says the application is done with the message. Idempotent; for QoS 0 it does nothing. It may be
     * called after the subscription was cancelled; after the connection the message came on has ended it
     * does nothing (the broker redelivers the message if it kept the session).
     */
    void acknowledge();

    /** @return whether {@link #acknowledge()} was called */
    boolean isAcknowledged();
}
