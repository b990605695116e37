package dev.tether.mqtt;

/**
 * The outcome of a publish that the broker accepted.
 *
 * @param topic      the topic published to
 * @param qos        the QoS of the publish
 * @param packetId   the packet identifier used, 0 for QoS 0
 * @param reasonCode the MQTT 5 reason code of the PUBACK or PUBREC (0 on success, 0x10 "no matching
 *                   subscribers"); 0 for MQTT 3.1.1 and QoS 0
 */
public record PublishResult(String topic, MqttQos qos, int packetId, int reasonCode) {
}
