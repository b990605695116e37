package dev.tether.mqtt;

/**
 * MQTT quality of service.
 */
public enum MqttQos {
    /** QoS 0: fire and forget; a publish completes once written to the transport. */
    AT_MOST_ONCE(0),
    /** QoS 1: a publish completes on PUBACK; duplicates are possible after a reconnect. */
    AT_LEAST_ONCE(1),
    /** QoS 2: a publish completes on PUBCOMP; the broker delivers it once. */
    EXACTLY_ONCE(2);

    private final int value;

    MqttQos(int value) {
        this.value = value;
    }

    /** @return the numeric QoS level, 0, 1 or 2 */
    public int value() {
        return value;
    }

    /**
     * @param value 0, 1 or 2
     * @return the QoS level
     * @throws IllegalArgumentException for any other value
     */
    public static MqttQos of(int value) {
        return switch (value) {
            case 0 -> AT_MOST_ONCE;
            case 1 -> AT_LEAST_ONCE;
            case 2 -> EXACTLY_ONCE;
            default -> throw new IllegalArgumentException("qos must be 0, 1 or 2, but was " + value);
        };
    }
}
