package dev.tether.mqtt;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.Initiator;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The broker answered CONNECT with a refusing CONNACK. {@link MqttVerdicts#connack()} turns it into
 * a verdict (retry, refresh credentials, redirect or fatal).
 */
public final class MqttConnackRefusedException extends ConnectionFailedException {

    private static final long serialVersionUID = 1L;

    /** The protocol version of the refused CONNECT. */
    private final MqttVersion version;
    /** The CONNACK code. */
    private final int reasonCode;
    /** The MQTT 5 reason string, if any. */
    private final @Nullable String reasonString;
    private final transient @Nullable Endpoint serverReference;

    /**
     * @param version         the protocol version of the CONNECT
     * @param reasonCode      the CONNACK return code (3.1.1) or reason code (5)
     * @param reasonString    the MQTT 5 reason string, or null
     * @param serverReference the endpoint named by the MQTT 5 Server Reference, or null
     */
    public MqttConnackRefusedException(MqttVersion version, int reasonCode, @Nullable String reasonString,
                                       @Nullable Endpoint serverReference) {
        super("the broker refused the connection: CONNACK " + describe(version, reasonCode)
                + (reasonString == null ? "" : " (" + reasonString + ")")
                + (serverReference == null ? "" : ", server reference " + serverReference),
                Initiator.REMOTE_PEER, reasonCode, null, null);
        this.version = version;
        this.reasonCode = reasonCode;
        this.reasonString = reasonString;
        this.serverReference = serverReference;
    }

    /** @return the protocol version of the refused CONNECT */
    public MqttVersion version() {
        return version;
    }

    /** @return the CONNACK return code (3.1.1) or reason code (5) */
    public int reasonCode() {
        return reasonCode;
    }

    /** @return the MQTT 5 reason string, if the broker sent one */
    public Optional<String> reasonString() {
        return Optional.ofNullable(reasonString);
    }

    /** @return where the broker sent the client (MQTT 5 Server Reference), if it did */
    public Optional<Endpoint> serverReference() {
        return Optional.ofNullable(serverReference);
    }

    /**
     * @param version the protocol version
     * @param code    a CONNACK code
     * @return the code in hex (MQTT 5) or decimal (3.1.1) with its name
     */
    public static String describe(MqttVersion version, int code) {
        if (version == MqttVersion.MQTT_3_1_1) {
            String name = switch (code) {
                case 0 -> "accepted";
                case 1 -> "unacceptable protocol version";
                case 2 -> "identifier rejected";
                case 3 -> "server unavailable";
                case 4 -> "bad user name or password";
                case 5 -> "not authorized";
                default -> "unknown";
            };
            return code + " " + name;
        }
        String name = switch (code) {
            case 0x00 -> "success";
            case 0x80 -> "unspecified error";
            case 0x81 -> "malformed packet";
            case 0x82 -> "protocol error";
            case 0x83 -> "implementation specific error";
            case 0x84 -> "unsupported protocol version";
            case 0x85 -> "client identifier not valid";
            case 0x86 -> "bad user name or password";
            case 0x87 -> "not authorized";
            case 0x88 -> "server unavailable";
            case 0x89 -> "server busy";
            case 0x8A -> "banned";
            case 0x8C -> "bad authentication method";
            case 0x90 -> "topic name invalid";
            case 0x95 -> "packet too large";
            case 0x97 -> "quota exceeded";
            case 0x99 -> "payload format invalid";
            case 0x9A -> "retain not supported";
            case 0x9B -> "QoS not supported";
            case 0x9C -> "use another server";
            case 0x9D -> "server moved";
            case 0x9F -> "connection rate exceeded";
            default -> "unknown";
        };
        return String.format("0x%02X %s", code, name);
    }
}
