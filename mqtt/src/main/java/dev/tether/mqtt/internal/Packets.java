package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.RetainHandling;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
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
     * @param message  the message, with the QoS it is sent with
     * @param packetId its packet id, 0 for QoS 0
     * @param dup      the DUP flag (a resend)
     * @param v5       whether MQTT 5 is spoken (Content Type and User Properties go along)
     */
    static MqttPublishMessage publish(MqttMessage message, int packetId, boolean dup, boolean v5) {
        MqttProperties props = MqttProperties.NO_PROPERTIES;
        if (v5 && (message.contentType().isPresent() || !message.userProperties().isEmpty())) {
            MqttProperties p = new MqttProperties();
            message.contentType().ifPresent(ct -> p.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, ct)));
            addUserProperties(p, message.userProperties());
            props = p;
        }
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBLISH, dup,
                io.netty.handler.codec.mqtt.MqttQoS.valueOf(message.qos().value()), message.retain(), 0);
        return new MqttPublishMessage(header, new MqttPublishVariableHeader(message.topic(), packetId, props),
                Unpooled.wrappedBuffer(message.payload()));
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
