package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static dev.tether.mqtt.test.FakeBroker.concat;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

/** Building blocks of fuzz inputs: valid MQTT 5 packets a broker may send, and ways to break them. */
final class MqttFuzzInputs {

    private MqttFuzzInputs() {
    }

    /** Valid broker-to-client MQTT 5 packets (some unexpected at that point of the conversation). */
    static final List<byte[]> VALID = List.of(
            packet(0x30, bytes(0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i')),                         // PUBLISH QoS 0
            packet(0x32, bytes(0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 0x00, 'x')),                  // PUBLISH QoS 1 id 7
            packet(0x34, bytes(0x00, 0x01, 'q', 0x00, 0x09, 0x05, 0x03, 0x00, 0x02, 't', 'x', 'y')), // PUBLISH QoS 2 id 9, content type
            packet(0x31, bytes(0x00, 0x01, 'r', 0x0B, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',        // retained, user property,
                    0x01, 0x01, 0x02, 0x00)),                                                       // payload format
            packet(0x62, bytes(0x00, 0x09)),                                                        // PUBREL id 9
            packet(0x40, bytes(0x00, 0x01)),                                                        // PUBACK id 1 (stray)
            packet(0x50, bytes(0x00, 0x02)),                                                        // PUBREC id 2 (stray)
            packet(0x70, bytes(0x00, 0x03)),                                                        // PUBCOMP id 3 (stray)
            packet(0x90, bytes(0x00, 0x01, 0x00, 0x02)),                                            // SUBACK id 1
            packet(0xB0, bytes(0x00, 0x05, 0x00, 0x00)),                                            // UNSUBACK id 5 (stray)
            packet(0xD0, bytes()),                                                                  // PINGRESP
            packet(0xE0, bytes(0x8B)),                                                              // DISCONNECT 0x8B
            packet(0xE0, bytes(0x00, 0x05, 0x1F, 0x00, 0x02, 'b', 'y')),                            // DISCONNECT with reason string
            packet(0xF0, bytes(0x18, 0x00)),                                                        // AUTH (unsolicited)
            packet(0x20, bytes(0x00, 0x00, 0x00)));                                                 // second CONNACK

    /** Topic bytes that are not valid MQTT UTF-8: overlong, surrogate, truncated, NUL, bare continuation. */
    static final List<byte[]> BAD_UTF8 = List.of(
            bytes(0xC0, 0x80), bytes(0xED, 0xA0, 0x80), bytes('a', 0xE2, 0x82), bytes('a', 0x00, 'b'),
            bytes(0x80), bytes(0xFF, 0xFE), bytes(0xF4, 0x90, 0x80, 0x80), bytes('a', '/', 0xC3));

    /**
     * @param firstByte packet type and flags
     * @param body      variable header and payload
     * @return the packet with its remaining length
     */
    static byte[] packet(int firstByte, byte[] body) {
        return concat(bytes(firstByte), varInt(body.length), body);
    }

    static byte[] varInt(int value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int v = value;
        do {
            int digit = v % 128;
            v /= 128;
            out.write(v > 0 ? digit | 0x80 : digit);
        } while (v > 0);
        return out.toByteArray();
    }

    /**
     * @param input    a packet or packets
     * @param op       0 replace a byte, 1 truncate, 2 append, 3 insert, 4 delete a byte
     * @param position where (modulo the length)
     * @param value    the byte to write
     * @return the mutated input (never empty)
     */
    static byte[] mutate(byte[] input, int op, int position, byte value) {
        int at = position % input.length;
        byte[] out;
        switch (op) {
            case 0 -> {
                out = input.clone();
                out[at] = value;
            }
            case 1 -> out = Arrays.copyOf(input, Math.max(1, at));
            case 2 -> out = concat(input, new byte[] {value});
            case 3 -> out = concat(Arrays.copyOf(input, at), new byte[] {value}, Arrays.copyOfRange(input, at, input.length));
            default -> out = input.length == 1 ? new byte[] {value}
                    : concat(Arrays.copyOf(input, at), Arrays.copyOfRange(input, at + 1, input.length));
        }
        return out;
    }

    /**
     * @param topic the topic bytes
     * @param qos   0, 1 or 2
     * @return a PUBLISH with that topic
     */
    static byte[] publishWithTopic(byte[] topic, int qos) {
        byte[] id = qos == 0 ? bytes() : bytes(0x00, 0x0B);
        return packet(0x30 | (qos << 1), concat(bytes(topic.length >> 8, topic.length & 0xFF), topic, id, bytes(0x00, 'p')));
    }

    /**
     * @param propertyId a property identifier, valid or not
     * @param value      its value bytes
     * @param firstByte  the packet: PUBLISH QoS 0 or 1, PUBACK, DISCONNECT or SUBACK
     * @return the packet carrying that property
     */
    static byte[] withProperty(int propertyId, byte[] value, int firstByte) {
        byte[] props = concat(bytes(propertyId), value);
        byte[] withLength = concat(varInt(props.length), props);
        byte[] body = switch (firstByte) {
            case 0x30 -> concat(bytes(0x00, 0x01, 'p'), withLength, bytes('x'));
            case 0x32 -> concat(bytes(0x00, 0x01, 'p', 0x00, 0x0C), withLength, bytes('x'));
            case 0x40 -> concat(bytes(0x00, 0x01, 0x00), withLength);
            case 0x90 -> concat(bytes(0x00, 0x01), withLength, bytes(0x00));
            default -> concat(bytes(0x00), withLength);
        };
        return packet(firstByte, body);
    }
}
