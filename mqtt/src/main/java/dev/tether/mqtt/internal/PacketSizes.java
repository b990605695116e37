package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.util.Map;

/** Sizes of encoded packets, computed the way the MQTT encoder writes them. */
final class PacketSizes {

    private PacketSizes() {
    }

    /**
     * @param message the message, with the QoS it is sent with
     * @param v5      whether MQTT 5 (properties) is spoken
     * @return the size of its PUBLISH packet, fixed header included
     */
    static long publish(MqttMessage message, boolean v5) {
        long remaining = 2L + utf8Length(message.topic());
        if (message.qos() != MqttQos.AT_MOST_ONCE) {
            remaining += 2;
        }
        if (v5) {
            long props = 0;
            if (message.contentType().isPresent()) {
                props += 1 + 2 + utf8Length(message.contentType().get());
            }
            Map<String, String> user = message.userProperties();
            if (!user.isEmpty()) {
                for (Map.Entry<String, String> e : user.entrySet()) {
                    props += 1 + 2 + utf8Length(e.getKey()) + 2 + utf8Length(e.getValue());
                }
            }
            remaining += varIntLength(props) + props;
        }
        remaining += message.payloadSize();
        return 1 + varIntLength(remaining) + remaining;
    }

    /**
     * An upper bound of {@link #publish}, without counting UTF-8 bytes when the message has no MQTT 5 properties (the
     * usual case): every character of the topic counted as three bytes (the most a UTF-16 unit takes), the remaining
     * length's variable integer as four bytes. With properties it is {@link #publish} itself.
     *
     * @param message the message, with the QoS it is sent with
     * @param v5      whether MQTT 5 (properties) is spoken
     * @return at least the size of its PUBLISH packet, fixed header included
     */
    static long publishAtMost(MqttMessage message, boolean v5) {
        if (v5 && (message.contentType().isPresent() || !message.userProperties().isEmpty())) {
            return publish(message, v5);
        }
        // fixed header byte, remaining length (at most 4), topic length, topic, packet id, property length 0
        return 1L + 4 + 2 + 3L * message.topic().length() + 2 + (v5 ? 1 : 0) + message.payloadSize();
    }

    static int varIntLength(long value) {
        int n = 1;
        long v = value;
        while (v >= 128) {
            v /= 128;
            n++;
        }
        return n;
    }

    /** The UTF-8 length, counted without encoding (a publish is sized twice on its way out). */
    static long utf8Length(String s) {
        long n = 0;
        int len = s.length();
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                // a lone surrogate is encoded as '?' by String.getBytes, one byte
                n += Character.isSurrogate(c) ? 1 : 3;
            }
        }
        return n;
    }
}
