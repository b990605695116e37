package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The framer's own reading of PUBLISH, PUBACK, PUBREC, PUBREL and PUBCOMP agrees with Netty's decoder, and leaves
 * every other form to it (no sockets: the framer and the decoder in an embedded channel).
 */
class PacketFramerTest {

    private static final AttributeKey<MqttVersion> VERSION = AttributeKey.valueOf("NETTY_CODEC_MQTT_VERSION");

    @Test
    void aCommonPublishIsReadAsNettyWouldDecodeIt() {
        byte[] payload = new byte[200];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        for (boolean v5 : new boolean[]{false, true}) {
            for (int qos = 0; qos <= 2; qos++) {
                for (List<Integer> ids : v5 ? List.of(List.<Integer>of(), List.of(3), List.of(1, 300_000)) : List.of(List.<Integer>of())) {
                    MqttProperties props = new MqttProperties();
                    for (int id : ids) {
                        props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, id));
                    }
                    byte[] bytes = encoded(qos, qos > 0, true, "sensors/7/temp", qos == 0 ? 0 : 65_535, props, payload, v5);
                    Object read = framed(bytes, v5, true);
                    assertThat(read).as("v5 %s, QoS %s, ids %s", v5, qos, ids).isInstanceOf(PacketFramer.InboundPublish.class);
                    PacketFramer.InboundPublish p = (PacketFramer.InboundPublish) read;
                    MqttPublishMessage netty = (MqttPublishMessage) framed(bytes, v5, false);
                    try {
                        assertThat(p.topic()).isEqualTo(netty.variableHeader().topicName());
                        assertThat(p.qos()).isEqualTo(netty.fixedHeader().qosLevel().value());
                        assertThat(p.retain()).isEqualTo(netty.fixedHeader().isRetain());
                        assertThat(p.packetId()).isEqualTo(qos == 0 ? 0 : netty.variableHeader().packetId());
                        assertThat(p.payload()).isEqualTo(ByteBufUtil.getBytes(netty.payload()));
                        assertThat(p.identifiers()).isEqualTo(ids);
                    } finally {
                        netty.release();
                    }
                }
            }
        }
    }

    @Test
    void anyOtherPublishIsLeftToTheDecoder() {
        MqttProperties contentType = new MqttProperties();
        contentType.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, "text/plain"));
        MqttProperties alias = new MqttProperties();
        alias.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, 1));
        byte[] payload = {1, 2, 3};
        List<byte[]> others = new ArrayList<>();
        others.add(encoded(1, false, false, "a/b", 1, contentType, payload, true)); // another property
        others.add(encoded(1, false, false, "a/b", 1, alias, payload, true)); // a topic alias
        others.add(encoded(0, false, false, "t\u00e9l\u00e9", 0, MqttProperties.NO_PROPERTIES, payload, true)); // not ASCII
        byte[] wildcard = encoded(0, false, false, "a/b", 0, MqttProperties.NO_PROPERTIES, payload, false);
        wildcard[6] = '+'; // Netty's encoder refuses to write it: the broker's bytes are made by hand
        others.add(wildcard);
        byte[] dupQos0 = encoded(0, false, false, "a/b", 0, MqttProperties.NO_PROPERTIES, payload, false);
        dupQos0[0] |= 0x08;
        others.add(dupQos0);
        for (byte[] bytes : others) {
            Object read = framed(bytes, true, true);
            try {
                assertThat(read).isNotInstanceOf(PacketFramer.InboundPublish.class);
            } finally {
                io.netty.util.ReferenceCountUtil.release(read);
            }
        }
    }

    @Test
    void publishesToTheSameTopicShareItsStringAndOnlyThoseDo() {
        PacketFramer framer = new PacketFramer(1 << 20, Duration.ofSeconds(5), VirtualTimeScheduler.create());
        EmbeddedChannel ch = new EmbeddedChannel(framer, new MqttDecoder(1 << 20), framer.tally());
        ch.attr(VERSION).set(MqttVersion.MQTT_5);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0xD0, 0})); // PINGRESP: not a short CONNACK
        io.netty.util.ReferenceCountUtil.release(ch.readInbound());
        framer.readPublishes(true);
        MqttProperties seven = new MqttProperties();
        seven.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, 7));
        MqttProperties eight = new MqttProperties();
        eight.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, 8));
        List<PacketFramer.InboundPublish> read = new ArrayList<>();
        for (Object[] p : new Object[][] {{"a/b", seven}, {"a/b", seven}, {"a/c", seven}, {"a/c", eight},
                {"a/cd", MqttProperties.NO_PROPERTIES}, {"a/c", eight}, {"l/" + "x".repeat(98), eight},
                {"L/" + "y".repeat(298), eight}, {"l/" + "x".repeat(98), eight}}) {
            ch.writeInbound(Unpooled.wrappedBuffer(encoded(0, false, false, (String) p[0], 0, (MqttProperties) p[1],
                    new byte[] {1}, true)));
            read.add(ch.readInbound());
        }
        ch.finishAndReleaseAll();

        assertThat(read).extracting(PacketFramer.InboundPublish::topic)
                .containsExactly("a/b", "a/b", "a/c", "a/c", "a/cd", "a/c", "l/" + "x".repeat(98), "L/" + "y".repeat(298),
                        "l/" + "x".repeat(98));
        assertThat(read).extracting(PacketFramer.InboundPublish::identifiers)
                .containsExactly(List.of(7), List.of(7), List.of(7), List.of(8), List.of(), List.of(8), List.of(8), List.of(8),
                        List.of(8));
        assertThat(read.get(1).topic()).isSameAs(read.get(0).topic());
        assertThat(read.get(3).topic()).isSameAs(read.get(2).topic());
        assertThat(read.get(2).identifiers()).isSameAs(read.get(1).identifiers());
        assertThat(read.get(5).identifiers()).isSameAs(read.get(3).identifiers());
    }

    @Test
    void aPublishReplyWithoutPropertiesIsReadByTheFramerAndAnyOtherByTheDecoder() {
        assertThat(framed(new byte[]{0x40, 2, 0x01, 0x02}, true, false)).satisfies(replyOf(4, 0x0102, 0));
        assertThat(framed(new byte[]{0x50, 2, 0x00, 0x07}, true, false)).satisfies(replyOf(5, 7, 0));
        assertThat(framed(new byte[]{0x62, 2, 0x00, 0x07}, true, false)).satisfies(replyOf(6, 7, 0));
        assertThat(framed(new byte[]{0x70, 2, 0x00, 0x07}, true, false)).satisfies(replyOf(7, 7, 0));
        // MQTT 5 with a reason code (and an empty property length): once the version is known.
        assertThat(framed(new byte[]{0x40, 3, 0x00, 0x07, 0x10}, true, true)).satisfies(replyOf(4, 7, 0x10));
        assertThat(framed(new byte[]{0x50, 4, 0x00, 0x07, (byte) 0x80, 0}, true, true))
                .satisfies(replyOf(5, 7, 0x80));
        // Before the version is known, in MQTT 3.1.1, with properties, or a PUBREL with the wrong flags: Netty's
        // decoder reads it (and judges it).
        assertThat(framed(new byte[]{0x40, 3, 0x00, 0x07, (byte) 0x80}, true, false))
                .isInstanceOf(io.netty.handler.codec.mqtt.MqttMessage.class);
        assertThat(framed(new byte[]{0x40, 3, 0x00, 0x07, (byte) 0x80}, false, true))
                .isInstanceOf(io.netty.handler.codec.mqtt.MqttMessage.class);
        assertThat(framed(new byte[]{0x40, 7, 0x00, 0x07, 0x10, 3, 0x1F, 0, 0}, true, true))
                .isInstanceOf(io.netty.handler.codec.mqtt.MqttMessage.class);
        assertThat(framed(new byte[]{0x60, 2, 0x00, 0x07}, true, false))
                .isInstanceOf(io.netty.handler.codec.mqtt.MqttMessage.class);
    }

    @Test
    void aPublishReplyWithAReasonCodeReachesTheCoreWithIt() {
        // Checked through the decoder's reading: the framer's record carries the same id and code.
        Object netty = framed(new byte[]{0x40, 3, 0x00, 0x07, 0x10}, true, false);
        Object ours = framed(new byte[]{0x40, 3, 0x00, 0x07, 0x10}, true, true);
        io.netty.handler.codec.mqtt.MqttMessage m = (io.netty.handler.codec.mqtt.MqttMessage) netty;
        io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader h =
                (io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader) m.variableHeader();
        assertThat(ours).satisfies(replyOf(4, h.messageId(), h.reasonCode() & 0xFF));
    }

    @Test
    void onceEstablishedTheDecoderLeavesThePipelineAndComesBackForAPacketOnlyItReads() {
        PacketFramer framer = new PacketFramer(1 << 20, Duration.ofSeconds(5), VirtualTimeScheduler.create());
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(VERSION).set(MqttVersion.MQTT_5);
        ch.pipeline().addLast("framer", framer);
        ch.pipeline().addLast(PacketFramer.DECODER, new MqttDecoder(1 << 20));
        ch.pipeline().addLast("tally", framer.tally());
        // CONNACK, MQTT 5, accepted, no properties: read by the decoder.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{0x20, 3, 0, 0, 0}));
        io.netty.handler.codec.mqtt.MqttMessage connack = ch.readInbound();
        assertThat(connack.fixedHeader().messageType()).isEqualTo(MqttMessageType.CONNACK);
        framer.readPublishes(true);
        ch.runPendingTasks();
        assertThat(ch.pipeline().get(PacketFramer.DECODER)).as("decoder after the session is established").isNull();

        // PINGRESP, all an idle client receives: read by the framer, no decoder needed.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0xD0, 0}));
        assertThat((Object) ch.readInbound()).isSameAs(io.netty.handler.codec.mqtt.MqttMessage.PINGRESP);
        assertThat(ch.pipeline().get(PacketFramer.DECODER)).isNull();

        // SUBACK (packet id 7, no properties, granted QoS 1): the decoder is put back and reads it.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0x90, 4, 0, 7, 0, 1}));
        io.netty.handler.codec.mqtt.MqttSubAckMessage suback = ch.readInbound();
        assertThat(suback.decoderResult().isSuccess()).isTrue();
        assertThat(suback.variableHeader().messageId()).isEqualTo(7);
        assertThat(suback.payload().reasonCodes()).containsExactly(1);
        assertThat(ch.pipeline().names()).containsSubsequence("framer", PacketFramer.DECODER, "tally");

        // The decoder stays once it came back; a PINGRESP is still read by the framer.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0xD0, 0}));
        assertThat((Object) ch.readInbound()).isSameAs(io.netty.handler.codec.mqtt.MqttMessage.PINGRESP);
        assertThat((Object) ch.readInbound()).isNull();
        ch.finishAndReleaseAll();
    }

    /** @return a check that the framer passed on a reply with these fields */
    private static org.assertj.core.api.ThrowingConsumer<Object> replyOf(int type, int packetId, int reasonCode) {
        return read -> {
            assertThat(read).isInstanceOf(PacketFramer.Reply.class);
            PacketFramer.Reply r = (PacketFramer.Reply) read;
            assertThat(new int[] {r.type(), r.packetId(), r.reasonCode()}).containsExactly(type, packetId, reasonCode);
        };
    }

    private static Object framed(byte[] bytes, boolean v5, boolean readPublishes) {
        PacketFramer framer = new PacketFramer(1 << 20, Duration.ofSeconds(5), VirtualTimeScheduler.create());
        EmbeddedChannel ch = new EmbeddedChannel(framer, new MqttDecoder(1 << 20), framer.tally());
        ch.attr(VERSION).set(v5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1);
        // The framer reads its first packet as a possible short CONNACK: let one go by first.
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0xD0, 0})); // PINGRESP
        io.netty.util.ReferenceCountUtil.release(ch.readInbound());
        if (readPublishes) {
            framer.readPublishes(v5);
        }
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        Object read = ch.readInbound();
        assertThat((Object) ch.readInbound()).isNull();
        ch.finishAndReleaseAll();
        return read;
    }

    private static byte[] encoded(int qos, boolean dup, boolean retain, String topic, int packetId, MqttProperties props,
                                  byte[] payload, boolean v5) {
        EmbeddedChannel ch = new EmbeddedChannel(MqttEncoder.INSTANCE);
        ch.attr(VERSION).set(v5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1);
        ch.writeOutbound(new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, dup, MqttQoS.valueOf(qos), retain, 0),
                new MqttPublishVariableHeader(topic, packetId, props), Unpooled.wrappedBuffer(payload)));
        return written(ch);
    }

    /** @return every byte the channel wrote, in order; the channel is finished */
    static byte[] written(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }
}
