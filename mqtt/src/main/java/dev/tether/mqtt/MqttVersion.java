package dev.tether.mqtt;

/**
 * The MQTT protocol version spoken on the wire.
 */
public enum MqttVersion {
    /** MQTT 3.1.1 (protocol level 4). */
    MQTT_3_1_1,
    /** MQTT 5 (protocol level 5): reason codes, properties, DISCONNECT from the server, AUTH. */
    MQTT_5
}
