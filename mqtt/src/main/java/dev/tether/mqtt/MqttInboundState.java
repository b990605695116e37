package dev.tether.mqtt;

/**
 * A snapshot of the client's way in, from {@link MqttClient#inboundState()}: what waits for the application
 * and whether the client is holding the broker back.
 *
 * @param unacknowledged   received QoS 1 and 2 messages whose acknowledgement has not gone out (on the current
 *                         connection); the broker may not send more than the Receive Maximum of them
 * @param buffered         messages waiting in subscribers' buffers, not yet requested by them
 * @param held             QoS 1 and 2 messages that match no subscriber, waiting for one
 * @param readingPaused    whether the client stopped reading from the socket because a buffer is full
 * @param droppedQos0      QoS 0 messages dropped since the client was built (matching no subscriber, or for a
 *                         full subscriber with {@link MqttClient.Builder#dropQos0WhenFull(boolean)})
 * @param receiveMaximumOvershoots connections on which the broker sent more than the announced Receive Maximum
 */
public record MqttInboundState(int unacknowledged, int buffered, int held, boolean readingPaused, long droppedQos0,
                               long receiveMaximumOvershoots) {
}
