package dev.tether.mqtt;

/**
 * The broker refused a publish (PUBACK or PUBREC reason code 0x80 or above), a subscription (SUBACK
 * failure code) or a re-authentication. The connection itself stays up.
 */
public final class MqttRefusedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The packet that carried the refusal. */
    private final String packet;
    /** The reason code. */
    private final int reasonCode;

    /**
     * @param packet     the packet that carried the refusal, e.g. {@code PUBACK}, {@code SUBACK}
     * @param reasonCode the reason code
     * @param message    what was refused and what to do
     */
    public MqttRefusedException(String packet, int reasonCode, String message) {
        super(message);
        this.packet = packet;
        this.reasonCode = reasonCode;
    }

    /** @return the packet that carried the refusal */
    public String packet() {
        return packet;
    }

    /** @return the reason code */
    public int reasonCode() {
        return reasonCode;
    }
}
