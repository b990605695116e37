package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.RetainHandling;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttSubscriptionOption;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.AttributeKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The packets the client sends after CONNECT: PUBLISH as bytes (read back with Netty's decoder), the others as Netty's message objects (no sockets). */
class PacketsTest {

    private static final MqttMessage MESSAGE = MqttMessage.builder("a/b").payload("hi".getBytes(StandardCharsets.UTF_8))
            .qos(MqttQos.EXACTLY_ONCE).retain(true).contentType("text/plain").userProperty("k", "v").build();

    @Test
    void aMqtt5PublishCarriesContentTypeAndUserProperties() {
        MqttPublishMessage p = decoded(Packets.publish(ByteBufAllocator.DEFAULT, MESSAGE, 42, true, true), true);
        try {
            assertThat(p.fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBLISH);
            assertThat(p.fixedHeader().isDup()).isTrue();
            assertThat(p.fixedHeader().qosLevel().value()).isEqualTo(2);
            assertThat(p.fixedHeader().isRetain()).isTrue();
            assertThat(p.variableHeader().topicName()).isEqualTo("a/b");
            assertThat(p.variableHeader().packetId()).isEqualTo(42);
            assertThat(ByteBufUtil.getBytes(p.payload())).isEqualTo("hi".getBytes(StandardCharsets.UTF_8));
            MqttProperties props = p.variableHeader().properties();
            assertThat(Packets.stringProperty(props, MqttProperties.CONTENT_TYPE)).isEqualTo("text/plain");
            assertThat(props.getProperties(MqttProperties.USER_PROPERTY)).hasSize(1);
        } finally {
            p.release();
        }
    }

    @Test
    void aMqtt311PublishHasNoProperties() {
        MqttPublishMessage p = decoded(Packets.publish(ByteBufAllocator.DEFAULT, MESSAGE, 42, false, false), false);
        try {
            assertThat(p.fixedHeader().isDup()).isFalse();
            assertThat(p.variableHeader().topicName()).isEqualTo("a/b");
            assertThat(p.variableHeader().packetId()).isEqualTo(42);
            assertThat(p.variableHeader().properties().isEmpty()).isTrue();
            assertThat(ByteBufUtil.getBytes(p.payload())).isEqualTo("hi".getBytes(StandardCharsets.UTF_8));
        } finally {
            p.release();
        }
    }

    @Test
    void aPublishIsEncodedByteForByteAsNettysEncoderWritesIt() {
        // Without properties the encoding is unique: compare with Netty's own encoder, for a multi-byte topic, a
        // payload that needs a two-byte remaining length, QoS 0 (no packet id) and QoS 1.
        byte[] payload = new byte[300];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        for (MqttQos qos : MqttQos.values()) {
            for (boolean v5 : new boolean[]{false, true}) {
                MqttMessage m = MqttMessage.builder("gr\u00f6\u00dfe/\u20ac/\ud83d\ude00").payload(payload).qos(qos).retain(true).build();
                ByteBuf ours = Packets.publish(ByteBufAllocator.DEFAULT, m, qos == MqttQos.AT_MOST_ONCE ? 0 : 513, false, v5);
                ByteBuf netty = nettyEncoded(m, qos == MqttQos.AT_MOST_ONCE ? 0 : 513, v5);
                try {
                    assertThat(ByteBufUtil.getBytes(ours)).as("QoS %s, MQTT 5 %s", qos, v5).isEqualTo(ByteBufUtil.getBytes(netty));
                    // the size checks: the exact size, and the bound that skips counting UTF-8 bytes
                    assertThat(PacketSizes.publish(m, v5)).isEqualTo(ours.readableBytes());
                    assertThat(PacketSizes.publishAtMost(m, v5)).isGreaterThanOrEqualTo(ours.readableBytes());
                    MqttMessage withProperties = m.toBuilder().contentType("text/é").userProperty("k", "v").build();
                    assertThat(PacketSizes.publishAtMost(withProperties, v5)).isGreaterThanOrEqualTo(PacketSizes.publish(withProperties, v5));
                    if (v5) {
                        assertThat(PacketSizes.publishAtMost(withProperties, true)).isEqualTo(PacketSizes.publish(withProperties, true));
                    }
                } finally {
                    ours.release();
                    netty.release();
                }
            }
        }
    }

    private static MqttPublishMessage decoded(ByteBuf bytes, boolean v5) {
        EmbeddedChannel ch = new EmbeddedChannel(new MqttDecoder());
        ch.attr(AttributeKey.<io.netty.handler.codec.mqtt.MqttVersion>valueOf("NETTY_CODEC_MQTT_VERSION"))
                .set(v5 ? io.netty.handler.codec.mqtt.MqttVersion.MQTT_5 : io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1);
        ch.writeInbound(bytes);
        MqttPublishMessage p = ch.readInbound();
        assertThat(p.decoderResult().isSuccess()).as("decoded: %s", p.decoderResult()).isTrue();
        ch.finishAndReleaseAll();
        return p;
    }

    private static ByteBuf nettyEncoded(MqttMessage m, int packetId, boolean v5) {
        EmbeddedChannel ch = new EmbeddedChannel(MqttEncoder.INSTANCE);
        ch.attr(AttributeKey.<io.netty.handler.codec.mqtt.MqttVersion>valueOf("NETTY_CODEC_MQTT_VERSION"))
                .set(v5 ? io.netty.handler.codec.mqtt.MqttVersion.MQTT_5 : io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1);
        ch.writeOutbound(new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false,
                io.netty.handler.codec.mqtt.MqttQoS.valueOf(m.qos().value()), m.retain(), 0),
                new MqttPublishVariableHeader(m.topic(), packetId, MqttProperties.NO_PROPERTIES), Unpooled.wrappedBuffer(m.payload())));
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        return all;
    }

    @Test
    void aMqtt5SubscribeCarriesItsOptionsAndSubscriptionIdentifier() {
        MqttSubscribeMessage s = Packets.subscribe(7, "x/#", MqttQos.AT_LEAST_ONCE, true, true, RetainHandling.DO_NOT_SEND, 3, true);

        assertThat(s.fixedHeader().qosLevel().value()).isEqualTo(1);
        assertThat(s.idAndPropertiesVariableHeader().messageId()).isEqualTo(7);
        assertThat(Packets.intProperty(s.idAndPropertiesVariableHeader().properties(), MqttProperties.SUBSCRIPTION_IDENTIFIER))
                .isEqualTo(3);
        MqttTopicSubscription sub = s.payload().topicSubscriptions().get(0);
        assertThat(sub.topicFilter()).isEqualTo("x/#");
        MqttSubscriptionOption o = sub.option();
        assertThat(o.qos().value()).isEqualTo(1);
        assertThat(o.isNoLocal()).isTrue();
        assertThat(o.isRetainAsPublished()).isTrue();
        assertThat(o.retainHandling()).isEqualTo(MqttSubscriptionOption.RetainedHandlingPolicy.DONT_SEND_AT_SUBSCRIBE);
    }

    @Test
    void aMqtt311SubscribeCarriesTheQosOnly() {
        MqttSubscribeMessage s = Packets.subscribe(7, "x/#", MqttQos.EXACTLY_ONCE, true, true, RetainHandling.DO_NOT_SEND, 3, false);

        assertThat(s.idAndPropertiesVariableHeader().properties().isEmpty()).isTrue();
        MqttSubscriptionOption o = s.payload().topicSubscriptions().get(0).option();
        assertThat(o).isEqualTo(MqttSubscriptionOption.onlyFromQos(io.netty.handler.codec.mqtt.MqttQoS.EXACTLY_ONCE));
    }

    @Test
    void noSubscriptionIdentifierMeansNoProperty() {
        MqttSubscribeMessage s = Packets.subscribe(7, "x", MqttQos.AT_MOST_ONCE, false, false, RetainHandling.SEND, 0, true);

        assertThat(s.idAndPropertiesVariableHeader().properties().isEmpty()).isTrue();
    }

    @Test
    void anUnsubscribeListsItsFilters() {
        MqttUnsubscribeMessage u = Packets.unsubscribe(9, List.of("a", "b/#"));

        assertThat(u.fixedHeader().qosLevel().value()).isEqualTo(1);
        assertThat(u.idAndPropertiesVariableHeader().messageId()).isEqualTo(9);
        assertThat(u.payload().topics()).containsExactly("a", "b/#");
    }

    @Test
    void pubrelCarriesQos1InItsFixedHeaderTheOtherRepliesQos0() {
        io.netty.handler.codec.mqtt.MqttMessage rel = Packets.reply(MqttMessageType.PUBREL, 5, 0);
        assertThat(rel.fixedHeader().qosLevel().value()).isEqualTo(1);
        for (MqttMessageType t : List.of(MqttMessageType.PUBACK, MqttMessageType.PUBREC, MqttMessageType.PUBCOMP)) {
            io.netty.handler.codec.mqtt.MqttMessage m = Packets.reply(t, 5, 0x92);
            assertThat(m.fixedHeader().messageType()).isEqualTo(t);
            assertThat(m.fixedHeader().qosLevel().value()).isZero();
            MqttPubReplyMessageVariableHeader h = (MqttPubReplyMessageVariableHeader) m.variableHeader();
            assertThat(h.messageId()).isEqualTo(5);
            assertThat(h.reasonCode() & 0xFF).isEqualTo(0x92);
        }
    }

    @Test
    void reauthenticationSendsTheMethodAndTheSecret() {
        io.netty.handler.codec.mqtt.MqttMessage auth = Packets.reauthenticate("TOKEN", Optional.of("s3"));

        assertThat(auth.fixedHeader().messageType()).isEqualTo(MqttMessageType.AUTH);
        MqttReasonCodeAndPropertiesVariableHeader h = (MqttReasonCodeAndPropertiesVariableHeader) auth.variableHeader();
        assertThat(h.reasonCode()).isEqualTo((byte) 0x19);
        assertThat(Packets.stringProperty(h.properties(), MqttProperties.AUTHENTICATION_METHOD)).isEqualTo("TOKEN");
        assertThat((byte[]) h.properties().getProperty(MqttProperties.AUTHENTICATION_DATA).value())
                .isEqualTo("s3".getBytes(StandardCharsets.UTF_8));
        MqttReasonCodeAndPropertiesVariableHeader none = (MqttReasonCodeAndPropertiesVariableHeader)
                Packets.reauthenticate("TOKEN", Optional.empty()).variableHeader();
        assertThat(none.properties().getProperty(MqttProperties.AUTHENTICATION_DATA)).isNull();
    }

    @Test
    void disconnectCarriesItsReasonCode() {
        io.netty.handler.codec.mqtt.MqttMessage d = Packets.disconnect(0x04);

        assertThat(d.fixedHeader().messageType()).isEqualTo(MqttMessageType.DISCONNECT);
        assertThat(((MqttReasonCodeAndPropertiesVariableHeader) d.variableHeader()).reasonCode()).isEqualTo((byte) 0x04);
    }

    @Test
    void propertyHelpersReadOnlyTheirType() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 10));
        props.add(new MqttProperties.StringProperty(MqttProperties.REASON_STRING, "why"));

        assertThat(Packets.intProperty(props, MqttProperties.RECEIVE_MAXIMUM)).isEqualTo(10);
        assertThat(Packets.stringProperty(props, MqttProperties.RECEIVE_MAXIMUM)).isNull();
        assertThat(Packets.stringProperty(props, MqttProperties.REASON_STRING)).isEqualTo("why");
        assertThat(Packets.intProperty(props, MqttProperties.MAXIMUM_QOS)).isNull();
    }
}
