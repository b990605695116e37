package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.RetainHandling;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttSubscribePayload;
import io.netty.handler.codec.mqtt.MqttSubscriptionOption;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.handler.codec.mqtt.MqttUnsubscribePayload;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The packets the client sends after CONNECT, as Netty MQTT messages (PUBLISH, PUBREL, PUBACK, PUBREC,
 * PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, AUTH), and the property helpers shared with {@link ConnectPackets}.
 *
 * <p>Stateless: static functions, any thread.
 */
final class Packets {

    private Packets() {
    }

    /**
     * A PUBLISH encoded straight into one buffer, as Netty's MQTT encoder would write it: no packet objects, no
     * copy of the payload on the way (it is written once, into the buffer that goes to the socket).
     *
     * @param alloc    the channel's allocator
     * @param message  the message, with the QoS it is sent with
     * @param packetId its packet id, 0 for QoS 0
     * @param dup      the DUP flag (a resend)
     * @param v5       whether MQTT 5 is spoken (Content Type and User Properties go along)
     * @return the packet's bytes, to be written (the write releases it)
     */
    static ByteBuf publish(ByteBufAllocator alloc, MqttMessage message, int packetId, boolean dup, boolean v5) {
        String topic = message.topic();
        int topicBytes = ByteBufUtil.utf8Bytes(topic);
        int qos = message.qos().value();
        byte[] payload = MessageAccess.payload(message);
        String contentType = v5 ? message.contentType().orElse(null) : null;
        Map<String, String> user = v5 ? message.userProperties() : Map.of();
        int props = 0;
        if (contentType != null) {
            props += 1 + 2 + ByteBufUtil.utf8Bytes(contentType);
        }
        if (!user.isEmpty()) {
            for (Map.Entry<String, String> e : user.entrySet()) {
                props += 1 + 2 + ByteBufUtil.utf8Bytes(e.getKey()) + 2 + ByteBufUtil.utf8Bytes(e.getValue());
            }
        }
        int remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + (v5 ? PacketSizes.varIntLength(props) + props : 0)
                + payload.length;
        ByteBuf buf = alloc.buffer(1 + PacketSizes.varIntLength(remaining) + remaining);
        buf.writeByte(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (message.retain() ? 0x01 : 0));
        writeVarInt(buf, remaining);
        buf.writeShort(topicBytes);
        ByteBufUtil.reserveAndWriteUtf8(buf, topic, topicBytes);
        if (qos > 0) {
            buf.writeShort(packetId);
        }
        if (v5) {
            writeVarInt(buf, props);
            if (contentType != null) {
                buf.writeByte(MqttProperties.CONTENT_TYPE);
                writeString(buf, contentType);
            }
            if (!user.isEmpty()) {
                for (Map.Entry<String, String> e : user.entrySet()) {
                    buf.writeByte(MqttProperties.USER_PROPERTY);
                    writeString(buf, e.getKey());
                    writeString(buf, e.getValue());
                }
            }
        }
        buf.writeBytes(payload);
        return buf;
    }

    /** Writes an MQTT UTF-8 string: its length in two bytes, then its bytes (shared with {@link ConnectPackets}). */
    static void writeString(ByteBuf buf, String s) {
        int n = ByteBufUtil.utf8Bytes(s);
        buf.writeShort(n);
        ByteBufUtil.reserveAndWriteUtf8(buf, s, n);
    }

    /** Writes an MQTT Variable Byte Integer (shared with {@link ConnectPackets}). */
    static void writeVarInt(ByteBuf buf, int value) {
        int v = value;
        do {
            int digit = v % 128;
            v /= 128;
            buf.writeByte(v > 0 ? digit | 0x80 : digit);
        } while (v > 0);
    }

    /**
     * A PUBACK, PUBREC, PUBREL or PUBCOMP without properties (PUBREL with the fixed header's QoS 1 the
     * protocol requires).
     */
    static io.netty.handler.codec.mqtt.MqttMessage reply(MqttMessageType type, int packetId, int reasonCode) {
        io.netty.handler.codec.mqtt.MqttQoS q = type == MqttMessageType.PUBREL
                ? io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE : io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE;
        return new io.netty.handler.codec.mqtt.MqttMessage(new MqttFixedHeader(type, false, q, false, 0),
                new MqttPubReplyMessageVariableHeader(packetId, (byte) reasonCode, MqttProperties.NO_PROPERTIES));
    }

    /** A SUBSCRIBE of one filter; MQTT 3.1.1 carries the QoS only, a subscription identifier of 0 means none. */
    static MqttSubscribeMessage subscribe(int packetId, String filter, MqttQos qos, boolean noLocal, boolean retainAsPublished,
                                          RetainHandling retainHandling, int subscriptionIdentifier, boolean v5) {
        MqttSubscriptionOption option = v5
                ? new MqttSubscriptionOption(io.netty.handler.codec.mqtt.MqttQoS.valueOf(qos.value()), noLocal,
                        retainAsPublished, MqttSubscriptionOption.RetainedHandlingPolicy.valueOf(retainHandling.value()))
                : MqttSubscriptionOption.onlyFromQos(io.netty.handler.codec.mqtt.MqttQoS.valueOf(qos.value()));
        MqttProperties props = MqttProperties.NO_PROPERTIES;
        if (v5 && subscriptionIdentifier > 0) {
            props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, subscriptionIdentifier));
        }
        return new MqttSubscribeMessage(
                new MqttFixedHeader(MqttMessageType.SUBSCRIBE, false, io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE, false, 0),
                new MqttMessageIdAndPropertiesVariableHeader(packetId, props),
                new MqttSubscribePayload(List.of(new MqttTopicSubscription(filter, option))));
    }

    /** An UNSUBSCRIBE of the filters. */
    static MqttUnsubscribeMessage unsubscribe(int packetId, List<String> filters) {
        return new MqttUnsubscribeMessage(
                new MqttFixedHeader(MqttMessageType.UNSUBSCRIBE, false, io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE, false, 0),
                new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES),
                new MqttUnsubscribePayload(filters));
    }

    /** An MQTT 5 AUTH that re-authenticates (0x19), the secret as authentication data. */
    static io.netty.handler.codec.mqtt.MqttMessage reauthenticate(String method, Optional<String> secret) {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.StringProperty(MqttProperties.AUTHENTICATION_METHOD, method));
        secret.ifPresent(s -> props.add(new MqttProperties.BinaryProperty(
                MqttProperties.AUTHENTICATION_DATA, s.getBytes(StandardCharsets.UTF_8))));
        return MqttMessageBuilders.auth().reasonCode((byte) 0x19).properties(props).build();
    }

    /** An MQTT 5 DISCONNECT with a reason code. */
    static io.netty.handler.codec.mqtt.MqttMessage disconnect(int reasonCode) {
        return MqttMessageBuilders.disconnect().reasonCode((byte) reasonCode).build();
    }

    // ------------------------------------------------------------------ properties

    /** @return the property's value if it is an integer, else null */
    static @Nullable Integer intProperty(MqttProperties props, int id) {
        MqttProperties.MqttProperty<?> p = props.getProperty(id);
        return p != null && p.value() instanceof Integer i ? i : null;
    }

    /** @return the property's value if it is a string, else null */
    static @Nullable String stringProperty(MqttProperties props, int id) {
        MqttProperties.MqttProperty<?> p = props.getProperty(id);
        return p != null && p.value() instanceof String s ? s : null;
    }

    /** Adds the user properties, in their order, if there are any. */
    static void addUserProperties(MqttProperties props, Map<String, String> user) {
        if (!user.isEmpty()) {
            List<MqttProperties.StringPair> pairs = new ArrayList<>();
            user.forEach((k, v) -> pairs.add(new MqttProperties.StringPair(k, v)));
            props.add(new MqttProperties.UserProperties(pairs));
        }
    }
}
