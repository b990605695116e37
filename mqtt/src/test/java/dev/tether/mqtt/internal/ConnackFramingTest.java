package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The framer reads an MQTT 5 CONNACK into the message Netty's decoder would have made, field by field, so that a new
 * connection needs no decoder; whatever it does not read exactly reaches the decoder, and ends as it did when the
 * decoder was in the pipeline from the start (no sockets: the framer and the decoder in an embedded channel).
 */
class ConnackFramingTest {

    private static final AttributeKey<MqttVersion> VERSION = AttributeKey.valueOf("NETTY_CODEC_MQTT_VERSION");

    // ------------------------------------------------------------------ well-formed CONNACKs

    @Test
    void everyKindOfMqtt5ConnackIsReadAsNettysDecoderReadsIt() {
        List<MqttProperties> propertySets = propertySets();
        List<MqttConnectReturnCode> codes = new ArrayList<>();
        for (MqttConnectReturnCode c : MqttConnectReturnCode.values()) {
            if (c.byteValue() == 0 || (c.byteValue() & 0x80) != 0) {
                codes.add(c);
            }
        }
        assertThat(codes).hasSizeGreaterThan(15);
        int cases = 0;
        for (MqttConnectReturnCode code : codes) {
            for (boolean sessionPresent : new boolean[] {false, true}) {
                for (MqttProperties props : propertySets) {
                    byte[] bytes = nettyEncoded(code, sessionPresent, props);
                    assertReadByTheFramerAsNettyReadsIt(bytes);
                    cases++;
                }
            }
        }
        assertThat(cases).isGreaterThan(200);
    }

    @Test
    void handWrittenConnacksWithRepeatedUserPropertiesAndEveryPropertyInAnyOrderAreReadAsNettyReadsThem() {
        List<byte[]> all = new ArrayList<>();
        for (int id : new int[] {0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C, 0x15, 0x16}) {
            all.add(property(id));
        }
        // In the order above, reversed, and with user properties repeated between the others.
        assertReadByTheFramerAsNettyReadsIt(connack(0x01, 0x00, all));
        List<byte[]> reversed = new ArrayList<>(all);
        java.util.Collections.reverse(reversed);
        assertReadByTheFramerAsNettyReadsIt(connack(0x00, 0x00, reversed));
        List<byte[]> users = new ArrayList<>();
        for (byte[] p : all) {
            users.add(p);
            users.add(userProperty("k", "v" + users.size()));
        }
        users.add(userProperty("k", "v"));
        users.add(userProperty("", ""));
        users.add(userProperty("ключ", "値 \uD83D\uDE00"));
        assertReadByTheFramerAsNettyReadsIt(connack(0x00, 0x87, users));
        // A Property Length of two bytes; the last property four bytes long, so the decoder reads it too.
        assertReadByTheFramerAsNettyReadsIt(connack(0x00, 0x00, List.of(string(0x1F, "r".repeat(300)),
                concat(new byte[] {0x21}, new byte[] {0, 10}))));
        // Reserved flag bits are not looked at by the decoder, nor by the framer.
        assertReadByTheFramerAsNettyReadsIt(connack(0xFE, 0x00, List.of()));
    }

    @Test
    void aNewConnectionReadsItsConnackWithoutEverAddingTheDecoder() {
        EmbeddedChannel ch = newConnection(true);
        ch.writeInbound(Unpooled.wrappedBuffer(nettyEncoded(MqttConnectReturnCode.CONNECTION_ACCEPTED, false, propertySets().get(2))));
        MqttConnAckMessage ack = ch.readInbound();
        assertThat(ack.decoderResult().isSuccess()).isTrue();
        assertThat(ch.pipeline().get(MqttDecoder.class)).as("no decoder").isNull();
        assertThat(ch.pipeline().names()).doesNotContain(PacketFramer.DECODER);
        ch.checkException();
        ch.finishAndReleaseAll();
    }

    @Test
    void aPacketTheFramerDoesNotReadBeforeConnackBringsTheDecoderIn() {
        EmbeddedChannel ch = newConnection(true);
        // AUTH, reason 0x18 (continue authentication), no properties.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0xF0, 2, 0x18, 0}));
        MqttMessage auth = ch.readInbound();
        assertThat(auth.fixedHeader().messageType()).isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.AUTH);
        assertThat(ch.pipeline().names()).containsSubsequence("framer", PacketFramer.DECODER, "tally");
        // The CONNACK after it is still the framer's, and the decoder stays until the session is established.
        ch.writeInbound(Unpooled.wrappedBuffer(connack(0, 0, List.of(property(0x21)))));
        assertThat((Object) ch.readInbound()).isInstanceOf(MqttConnAckMessage.class);
        assertThat(ch.pipeline().get(PacketFramer.DECODER)).isNotNull();
        ch.checkException();
        ch.finishAndReleaseAll();
    }

    // ------------------------------------------------------------------ anything else: as before

    @Test
    void whatTheFramerDoesNotReadExactlyEndsAsItDidWithTheDecoderInThePipelineFromTheStart() {
        List<byte[]> others = new ArrayList<>();
        others.add(connack(0, 0, List.of(new byte[] {0x50, 1}))); // an unknown property
        others.add(connack(0, 0, List.of(new byte[] {0x01, 1}))); // a property of PUBLISH (Netty reads it)
        others.add(connack(0, 0, List.of(new byte[] {0x0B, 5}))); // a Subscription Identifier
        others.add(connack(0, 0, List.of(property(0x21), concat(new byte[] {0x21}, new byte[] {0, 7})))); // repeated
        others.add(connack(0, 0, List.of(property(0x15), property(0x15)))); // repeated string
        others.add(connack(0, 0, List.of(new byte[] {0x1F, 0, 9, 'a'}))); // a string past the properties
        others.add(connack(0, 0, List.of(new byte[] {0x26, 0, 1, 'k', 0, 5, 'v'}))); // a user property's value past them
        others.add(connack(0, 0, List.of(new byte[] {0x16, 0, 4, 1, 2}))); // binary data past them
        others.add(connack(0, 0, List.of(new byte[] {0x27, 0, 1}))); // an integer past them
        others.add(connack(0, 0, List.of(new byte[] {0x1F, 0, 2, (byte) 0xC3, 0x28}))); // malformed UTF-8
        others.add(connack(0, 0, List.of(new byte[] {0x1F, 0, 3, (byte) 0xED, (byte) 0xA0, (byte) 0x80}))); // a surrogate
        others.add(connack(0, 0, List.of(new byte[] {0x1F, 0, 2, (byte) 0xC0, (byte) 0x80}))); // overlong NUL
        others.add(connack(0, 0, List.of(new byte[] {0x12, 0, 3, 'a', 0, 'b'}))); // U+0000
        others.add(connack(0, 0, List.of(string(0x1F, "\uFFFD as sent")))); // U+FFFD itself: the decoder accepts it
        others.add(connack(0, 0x05, List.of())); // a reason code Netty does not know
        others.add(connack(0, 0x83, List.of(new byte[] {(byte) 0x80, 0x01}))); // an id that is a two-byte integer
        // The decoder stops before a last property shorter than the Property Length's own two bytes + 1.
        others.add(connack(0, 0, List.of(string(0x1F, "r".repeat(300)), new byte[] {0x24, 1})));
        others.add(withRawProperties(0, 0, new byte[] {(byte) 0x80, 0x00})); // a Property Length not in its shortest form
        others.add(withRawProperties(0, 0, new byte[] {5, 0x21, 0, 10})); // a Property Length past the packet
        others.add(withRawProperties(0, 0, new byte[] {3, 0x21, 0, 10, 0x24})); // a byte after the properties
        others.add(withRawProperties(0, 0, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1})); // 5 bytes
        others.add(new byte[] {0x21, 3, 0, 0, 0}); // reserved fixed-header flags
        others.add(new byte[] {(byte) 0xE0, 1, (byte) 0x8C}); // DISCONNECT before CONNACK
        others.add(new byte[] {(byte) 0xF0, 2, 0x18, 0}); // AUTH
        others.add(new byte[] {0x30, 5, 0, 1, 'a', 0, 'x'}); // PUBLISH before CONNACK
        others.add("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // not MQTT at all
        others.add(new byte[] {0x20, 2, 0, 0}); // an MQTT 3.1.1 CONNACK: the framer's short one, as before
        for (byte[] bytes : others) {
            for (boolean v5 : new boolean[] {true, false}) {
                List<String> before = outcome(bytes, v5, false);
                List<String> now = outcome(bytes, v5, true);
                assertThat(now).as("%s, v5 %s", ByteBufUtil.hexDump(bytes), v5).isEqualTo(before);
            }
        }
        // And in MQTT 3.1.1 the well-formed MQTT 5 CONNACKs too: the decoder reads two bytes, as before.
        for (MqttProperties props : propertySets()) {
            byte[] bytes = nettyEncoded(MqttConnectReturnCode.CONNECTION_ACCEPTED, true, props);
            assertThat(outcome(bytes, false, true)).isEqualTo(outcome(bytes, false, false));
        }
    }

    @Test
    void aMalformedConnackStillFailsWithTheDecodersWords() {
        List<String> unknown = outcome(connack(0, 0, List.of(new byte[] {0x50, 1})), true, true);
        assertThat(unknown).singleElement().asString().contains("failure").contains("Unknown property type: 80");
        List<String> utf8 = outcome(connack(0, 0, List.of(new byte[] {0x1F, 0, 2, (byte) 0xC3, 0x28})), true, true);
        assertThat(utf8).singleElement().asString().contains("invalid UTF-8 string in MQTT packet");
        List<String> pastTheEnd = outcome(connack(0, 0, List.of(new byte[] {0x1F, 0, 9, 'a'})), true, true);
        assertThat(pastTheEnd).as("%s", pastTheEnd).isNotEmpty().noneMatch(s -> s.startsWith("CONNACK success"));
    }

    // ------------------------------------------------------------------ helpers

    /** Reads the bytes through a new connection's framer and through Netty's decoder alone: the same CONNACK. */
    private static void assertReadByTheFramerAsNettyReadsIt(byte[] bytes) {
        EmbeddedChannel ours = newConnection(true);
        ours.writeInbound(Unpooled.wrappedBuffer(bytes));
        Object read = ours.readInbound();
        assertThat(read).as("%s", ByteBufUtil.hexDump(bytes)).isInstanceOf(MqttConnAckMessage.class);
        assertThat(ours.pipeline().get(MqttDecoder.class)).as("read by the framer: %s", ByteBufUtil.hexDump(bytes)).isNull();
        assertThat((Object) ours.readInbound()).isNull();
        ours.checkException();
        ours.finishAndReleaseAll();

        EmbeddedChannel netty = new EmbeddedChannel(new MqttDecoder(1 << 20));
        netty.attr(VERSION).set(MqttVersion.MQTT_5);
        netty.writeInbound(Unpooled.wrappedBuffer(bytes));
        MqttConnAckMessage expected = netty.readInbound();
        netty.finishAndReleaseAll();
        assertThat(expected.decoderResult().isSuccess()).as("%s: %s", ByteBufUtil.hexDump(bytes), expected.decoderResult()).isTrue();

        MqttConnAckMessage ack = (MqttConnAckMessage) read;
        assertThat(describe(ack)).as("%s", ByteBufUtil.hexDump(bytes)).isEqualTo(describe(expected));
        assertThat(ack.decoderResult()).isSameAs(expected.decoderResult());
        assertThat(ack.payload()).isNull();
        MqttProperties ourProps = ack.variableHeader().properties();
        MqttProperties nettyProps = expected.variableHeader().properties();
        assertThat(ourProps.isEmpty()).isEqualTo(nettyProps.isEmpty());
        for (MqttProperties.MqttProperty<?> p : nettyProps.listAll()) {
            MqttProperties.MqttProperty<?> mine = ourProps.getProperty(p.propertyId());
            assertThat(mine).as("property %s", p.propertyId()).isNotNull().hasSameClassAs(p);
        }
        assertThat(ourProps.getProperties(MqttProperties.USER_PROPERTY))
                .hasSameSizeAs(nettyProps.getProperties(MqttProperties.USER_PROPERTY));
    }

    /** A connection's pipeline as the connector builds it now (no decoder) or did before (the decoder from the start). */
    private static EmbeddedChannel newConnection(boolean v5) {
        return connection(v5, true);
    }

    private static EmbeddedChannel connection(boolean v5, boolean withoutDecoder) {
        PacketFramer framer = new PacketFramer(1 << 20, Duration.ofSeconds(5), VirtualTimeScheduler.create());
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(VERSION).set(v5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1);
        ch.pipeline().addLast("framer", framer);
        if (!withoutDecoder) {
            ch.pipeline().addLast(PacketFramer.DECODER, new MqttDecoder(1 << 20));
        }
        ch.pipeline().addLast("tally", framer.tally());
        return ch;
    }

    /** @return what the connection's handler would see: every message read and every exception, described */
    private static List<String> outcome(byte[] bytes, boolean v5, boolean withoutDecoder) {
        EmbeddedChannel ch = connection(v5, withoutDecoder);
        List<String> seen = new ArrayList<>();
        String failure = null;
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
            ch.checkException();
        } catch (RuntimeException e) {
            failure = "exception " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        for (Object m; (m = ch.readInbound()) != null; ) {
            seen.add(describeAny(m));
            ReferenceCountUtil.release(m);
        }
        if (failure != null) {
            seen.add(failure);
        }
        ch.finishAndReleaseAll();
        return seen;
    }

    private static String describeAny(Object m) {
        if (m instanceof MqttConnAckMessage ack) {
            return describe(ack);
        }
        if (m instanceof MqttMessage mm) {
            return (mm.fixedHeader() == null ? "no fixed header" : mm.fixedHeader().toString()) + " " + result(mm);
        }
        if (m instanceof PacketFramer.ShortConnack sc) {
            return sc.toString();
        }
        return String.valueOf(m);
    }

    private static String result(MqttMessage m) {
        return m.decoderResult().isSuccess() ? "success"
                : "failure " + m.decoderResult().cause().getClass().getSimpleName() + ": " + m.decoderResult().cause().getMessage();
    }

    /** @return every field of the CONNACK, its properties by id and value (user properties in order) */
    private static String describe(MqttConnAckMessage ack) {
        StringBuilder b = new StringBuilder("CONNACK ").append(result(ack));
        if (ack.fixedHeader() != null) {
            b.append(" ").append(ack.fixedHeader());
        }
        if (ack.variableHeader() == null) {
            return b.toString();
        }
        b.append(" code=").append(ack.variableHeader().connectReturnCode())
                .append(" sessionPresent=").append(ack.variableHeader().isSessionPresent())
                .append(" properties={");
        List<MqttProperties.MqttProperty<?>> props = new ArrayList<>();
        for (MqttProperties.MqttProperty<?> p : ack.variableHeader().properties().listAll()) {
            props.add(p);
        }
        props.sort(java.util.Comparator.comparingInt(MqttProperties.MqttProperty::propertyId));
        for (MqttProperties.MqttProperty<?> p : props) {
            b.append(p.getClass().getSimpleName()).append(' ').append(p.propertyId()).append('=');
            if (p instanceof MqttProperties.BinaryProperty bin) {
                b.append(ByteBufUtil.hexDump(bin.value()));
            } else if (p instanceof MqttProperties.UserProperties u) {
                for (MqttProperties.StringPair pair : u.value()) {
                    b.append('[').append(pair.key).append('|').append(pair.value).append(']');
                }
            } else {
                b.append(p.value());
            }
            b.append("; ");
        }
        return b.append('}').toString();
    }

    /** @return none, some, and every property a CONNACK may carry, with Netty's value types */
    private static List<MqttProperties> propertySets() {
        List<MqttProperties> sets = new ArrayList<>();
        sets.add(MqttProperties.NO_PROPERTIES);
        MqttProperties one = new MqttProperties();
        one.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 10));
        sets.add(one);
        MqttProperties some = new MqttProperties();
        some.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS_MAXIMUM, 5));
        some.add(new MqttProperties.StringProperty(MqttProperties.ASSIGNED_CLIENT_IDENTIFIER, "auto-4f2a"));
        some.add(new MqttProperties.IntegerProperty(MqttProperties.SERVER_KEEP_ALIVE, 120));
        some.add(new MqttProperties.UserProperty("region", "eu-west"));
        sets.add(some);
        MqttProperties all = new MqttProperties();
        all.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, 0xFFFF_FFFF));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 0xFFFF));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_QOS, 1));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.RETAIN_AVAILABLE, 0));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, 0x8000_0000));
        all.add(new MqttProperties.StringProperty(MqttProperties.ASSIGNED_CLIENT_IDENTIFIER, "ünï-çødé-\uD83D\uDE00"));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS_MAXIMUM, 0));
        all.add(new MqttProperties.StringProperty(MqttProperties.REASON_STRING, "the reason ".repeat(20)));
        all.add(new MqttProperties.UserProperty("k", "v"));
        all.add(new MqttProperties.UserProperty("k", "v2"));
        all.add(new MqttProperties.UserProperty("", ""));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.WILDCARD_SUBSCRIPTION_AVAILABLE, 0));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 1));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE, 0));
        all.add(new MqttProperties.IntegerProperty(MqttProperties.SERVER_KEEP_ALIVE, 0));
        all.add(new MqttProperties.StringProperty(MqttProperties.RESPONSE_INFORMATION, "replies/"));
        all.add(new MqttProperties.StringProperty(MqttProperties.SERVER_REFERENCE, "other.example:1883"));
        all.add(new MqttProperties.StringProperty(MqttProperties.AUTHENTICATION_METHOD, "SCRAM-SHA-1"));
        all.add(new MqttProperties.BinaryProperty(MqttProperties.AUTHENTICATION_DATA, new byte[] {0, 1, (byte) 0xFF, 0x7F}));
        sets.add(all);
        MqttProperties empties = new MqttProperties();
        empties.add(new MqttProperties.StringProperty(MqttProperties.REASON_STRING, ""));
        empties.add(new MqttProperties.BinaryProperty(MqttProperties.AUTHENTICATION_DATA, new byte[0]));
        sets.add(empties);
        return sets;
    }

    private static byte[] nettyEncoded(MqttConnectReturnCode code, boolean sessionPresent, MqttProperties props) {
        MqttConnAckMessage m = MqttMessageBuilders.connAck().returnCode(code).sessionPresent(sessionPresent)
                .properties(props).build();
        EmbeddedChannel ch = new EmbeddedChannel(MqttEncoder.INSTANCE);
        ch.attr(VERSION).set(MqttVersion.MQTT_5);
        ch.writeOutbound(m);
        return PacketFramerTest.written(ch);
    }

    /** @return a CONNACK with these flags, reason code and properties (each one id and its value), written by hand */
    private static byte[] connack(int flags, int code, List<byte[]> properties) {
        ByteArrayOutputStream props = new ByteArrayOutputStream();
        for (byte[] p : properties) {
            props.writeBytes(p);
        }
        byte[] p = props.toByteArray();
        return withRawProperties(flags, code, concat(varInt(p.length), p));
    }

    /** @return a CONNACK whose bytes after the reason code are these, Property Length included */
    private static byte[] withRawProperties(int flags, int code, byte[] rest) {
        byte[] body = concat(new byte[] {(byte) flags, (byte) code}, rest);
        return concat(concat(new byte[] {0x20}, varInt(body.length)), body);
    }

    private static byte[] property(int id) {
        return switch (id) {
            case 0x24, 0x25, 0x28, 0x29, 0x2A -> new byte[] {(byte) id, 1};
            case 0x21, 0x22, 0x13 -> new byte[] {(byte) id, 0x01, 0x02};
            case 0x11, 0x27 -> new byte[] {(byte) id, (byte) 0x80, 0, 0, 1};
            case 0x12, 0x1F, 0x1A, 0x1C, 0x15 -> string(id, "value-" + Integer.toHexString(id) + "-é");
            case 0x26 -> userProperty("key", "value");
            case 0x16 -> new byte[] {(byte) id, 0, 3, 9, 8, 7};
            default -> throw new IllegalArgumentException("not a CONNACK property: " + id);
        };
    }

    private static byte[] string(int id, String value) {
        return concat(new byte[] {(byte) id}, utf8(value));
    }

    private static byte[] userProperty(String key, String value) {
        return concat(new byte[] {0x26}, concat(utf8(key), utf8(value)));
    }

    private static byte[] utf8(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return concat(new byte[] {(byte) (b.length >> 8), (byte) b.length}, b);
    }

    private static byte[] varInt(int value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int v = value;
        do {
            int digit = v % 128;
            v /= 128;
            out.write(v > 0 ? digit | 0x80 : digit);
        } while (v > 0);
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
