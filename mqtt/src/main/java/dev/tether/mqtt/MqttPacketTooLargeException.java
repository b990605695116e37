package dev.tether.mqtt;

/**
 * A publish was refused before it was sent because its PUBLISH packet would be larger than a limit:
 * the client's own {@code maxPacketSize}, or the broker's Maximum Packet Size (MQTT 5 CONNACK). Only
 * that publish fails; the connection stays up. The message names the packet size and both limits.
 */
public final class MqttPacketTooLargeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The size of the PUBLISH packet, fixed header included. */
    private final long packetSize;
    /** The limit it broke. */
    private final long limit;
    /** Whether the limit is the broker's (true) or the client's (false). */
    private final boolean brokerLimit;

    /**
     * @param message     what was refused, naming both sizes
     * @param packetSize  the size of the PUBLISH packet, fixed header included
     * @param limit       the limit it broke
     * @param brokerLimit whether the limit is the broker's Maximum Packet Size rather than the client's
     */
    public MqttPacketTooLargeException(String message, long packetSize, long limit, boolean brokerLimit) {
        super(message);
        this.packetSize = packetSize;
        this.limit = limit;
        this.brokerLimit = brokerLimit;
    }

    /** @return the size of the PUBLISH packet, fixed header included */
    public long packetSize() {
        return packetSize;
    }

    /** @return the limit it broke */
    public long limit() {
        return limit;
    }

    /** @return whether the limit is the broker's Maximum Packet Size (MQTT 5 CONNACK) rather than the client's */
    public boolean brokerLimit() {
        return brokerLimit;
    }
}
