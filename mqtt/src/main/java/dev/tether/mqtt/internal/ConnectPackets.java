package dev.tether.mqtt.internal;

import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import dev.tether.mqtt.MqttConnackRefusedException;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectPayload;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection handshake's packets: the CONNECT built from the settings and the attempt's credentials
 * (protocol version, client id, credentials, MQTT 5 properties, Will), and the CONNACK read into a refusal or
 * a {@link NegotiatedSession}; also the Server Reference a CONNACK or DISCONNECT may carry.
 *
 * <p>Stateless: static functions, any thread.
 */
final class ConnectPackets {

    /** The connection's logger: these lines belong to the connection's story. */
    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);

    private ConnectPackets() {
    }

    /**
     * @param c     the client settings
     * @param creds the attempt's credentials
     * @return the CONNECT packet in the configured version
     */
    static MqttConnectMessage connect(MqttClientConfig c, Credentials creds) {
        return connect(c, creds, c.version());
    }

    /**
     * @param c     the client settings
     * @param creds the attempt's credentials: user name and password, or with an MQTT 5 authentication method
     *              the secret as authentication data
     * @param version the version to speak on this connection: the configured one, or MQTT 3.1.1 after a fallback
     * @return the CONNECT packet
     */
    static MqttConnectMessage connect(MqttClientConfig c, Credentials creds, MqttVersion version) {
        boolean v5 = version == MqttVersion.MQTT_5;
        MqttMessageBuilders.ConnectBuilder b = MqttMessageBuilders.connect()
                .protocolVersion(v5 ? io.netty.handler.codec.mqtt.MqttVersion.MQTT_5
                        : io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1)
                .clientId(c.clientId())
                .cleanSession(cleanSession(c, version))
                .keepAlive((int) Math.min(0xFFFF, c.keepAlive().getSeconds()));
        String username = creds.username().orElse(null);
        String secret = creds.secret().orElse(null);
        MqttProperties props = new MqttProperties();
        if (v5) {
            if (!c.sessionExpiry().isZero()) {
                props.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL,
                        (int) Math.min(0xFFFFFFFFL, c.sessionExpiry().getSeconds())));
            }
            if (c.receiveMaximum() != 0xFFFF) {
                props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, c.receiveMaximum()));
            }
            props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, c.maxPacketSize()));
            String method = c.authenticationMethod();
            if (method != null) {
                props.add(new MqttProperties.StringProperty(MqttProperties.AUTHENTICATION_METHOD, method));
                if (secret != null) {
                    props.add(new MqttProperties.BinaryProperty(MqttProperties.AUTHENTICATION_DATA,
                            secret.getBytes(StandardCharsets.UTF_8)));
                }
                secret = null;
            }
        }
        if (secret != null && username == null && !v5) {
            username = "";
        }
        if (username != null) {
            b.hasUser(true).username(username);
        }
        if (secret != null) {
            b.hasPassword(true).password(secret.getBytes(StandardCharsets.UTF_8));
        }
        MqttWill will = c.will();
        if (will != null) {
            MqttMessage m = will.message();
            b.willFlag(true).willTopic(m.topic()).willMessage(m.payload()).willRetain(m.retain())
                    .willQoS(io.netty.handler.codec.mqtt.MqttQoS.valueOf(m.qos().value()));
            if (v5) {
                MqttProperties wp = new MqttProperties();
                if (!will.delay().isZero()) {
                    wp.add(new MqttProperties.IntegerProperty(MqttProperties.WILL_DELAY_INTERVAL, (int) will.delay().getSeconds()));
                }
                will.messageExpiry().ifPresent(e -> wp.add(new MqttProperties.IntegerProperty(
                        MqttProperties.PUBLICATION_EXPIRY_INTERVAL, (int) e.getSeconds())));
                m.contentType().ifPresent(ct -> wp.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, ct)));
                Packets.addUserProperties(wp, m.userProperties());
                b.willProperties(wp);
            }
        }
        b.properties(props);
        return b.build();
    }

    /**
     * A CONNECT encoded straight into one buffer, byte for byte as Netty's MQTT encoder writes it (properties in the
     * order of {@link MqttProperties#listAll()}), without its per-property buffers: the packet goes out on every
     * reconnect, where this code runs cold. Returns null for what it does not write itself (MQTT 3.1's protocol
     * name, a property a CONNECT built by {@link #connect} never carries); the caller then writes the message.
     *
     * @param alloc   the channel's allocator
     * @param connect a CONNECT built by {@link #connect}
     * @return the packet's bytes (the write releases them), or null to let Netty's encoder write the message
     */
    static @Nullable ByteBuf encode(ByteBufAllocator alloc, MqttConnectMessage connect) {
        MqttConnectVariableHeader h = connect.variableHeader();
        MqttConnectPayload p = connect.payload();
        int version = h.version();
        if (version != 4 && version != 5 || !"MQTT".equals(h.name())) {
            return null;
        }
        boolean v5 = version == 5;
        int props = v5 ? propertiesLength(h.properties()) : 0;
        int willProps = v5 && h.isWillFlag() ? propertiesLength(p.willProperties()) : 0;
        if (props < 0 || willProps < 0) {
            return null;
        }
        String clientId = p.clientIdentifier();
        int remaining = 10 + (v5 ? PacketSizes.varIntLength(props) + props : 0) + 2 + ByteBufUtil.utf8Bytes(clientId);
        byte[] willMessage = null;
        if (h.isWillFlag()) {
            willMessage = p.willMessageInBytes();
            remaining += (v5 ? PacketSizes.varIntLength(willProps) + willProps : 0) + 2 + ByteBufUtil.utf8Bytes(p.willTopic())
                    + 2 + willMessage.length;
        }
        String user = h.hasUserName() ? p.userName() : null;
        if (user != null) {
            remaining += 2 + ByteBufUtil.utf8Bytes(user);
        }
        byte[] password = h.hasPassword() ? p.passwordInBytes() : null;
        if (password != null) {
            remaining += 2 + password.length;
        }
        ByteBuf buf = alloc.buffer(1 + PacketSizes.varIntLength(remaining) + remaining);
        buf.writeByte(0x10);
        Packets.writeVarInt(buf, remaining);
        buf.writeShort(4).writeByte('M').writeByte('Q').writeByte('T').writeByte('T');
        buf.writeByte(version);
        buf.writeByte((user != null ? 0x80 : 0) | (password != null ? 0x40 : 0) | (h.isWillRetain() ? 0x20 : 0)
                | (h.willQos() & 0x03) << 3 | (h.isWillFlag() ? 0x04 : 0) | (h.isCleanSession() ? 0x02 : 0));
        buf.writeShort(h.keepAliveTimeSeconds());
        if (v5) {
            Packets.writeVarInt(buf, props);
            writeProperties(buf, h.properties());
        }
        Packets.writeString(buf, clientId);
        if (willMessage != null) {
            if (v5) {
                Packets.writeVarInt(buf, willProps);
                writeProperties(buf, p.willProperties());
            }
            Packets.writeString(buf, p.willTopic());
            buf.writeShort(willMessage.length).writeBytes(willMessage);
        }
        if (user != null) {
            Packets.writeString(buf, user);
        }
        if (password != null) {
            buf.writeShort(password.length).writeBytes(password);
        }
        return buf;
    }

    /**
     * Netty's MQTT decoder reads a packet in the version the encoder saw in CONNECT, kept in this channel attribute
     * (its name is Netty's; {@code ConnectPacketsTest} fails if it ever changes). The framer reads it too, to read an
     * MQTT 5 CONNACK itself.
     */
    static final io.netty.util.AttributeKey<io.netty.handler.codec.mqtt.MqttVersion> DECODER_VERSION =
            io.netty.util.AttributeKey.valueOf("NETTY_CODEC_MQTT_VERSION");

    /**
     * Tells Netty's MQTT decoder on the channel which version the CONNECT written by {@link #encode} spoke, as its
     * encoder does when it writes a CONNECT: the CONNACK and everything after it are read in that version.
     *
     * @param channel the connection's channel
     * @param connect the CONNECT written
     */
    static void announceVersion(io.netty.channel.Channel channel, MqttConnectMessage connect) {
        channel.attr(DECODER_VERSION).set(io.netty.handler.codec.mqtt.MqttVersion.fromProtocolNameAndLevel(
                connect.variableHeader().name(), (byte) connect.variableHeader().version()));
    }

    /** @return the encoded length of the properties, or -1 if one of them is not a kind a CONNECT carries */
    private static int propertiesLength(MqttProperties props) {
        int n = 0;
        for (MqttProperties.MqttProperty<?> prop : props.listAll()) {
            int id = prop.propertyId();
            if (prop instanceof MqttProperties.UserProperties u) {
                for (MqttProperties.StringPair pair : u.value()) {
                    n += 1 + 2 + ByteBufUtil.utf8Bytes(pair.key) + 2 + ByteBufUtil.utf8Bytes(pair.value);
                }
            } else if (prop instanceof MqttProperties.UserProperty u) {
                n += 1 + 2 + ByteBufUtil.utf8Bytes(u.value().key) + 2 + ByteBufUtil.utf8Bytes(u.value().value);
            } else if (prop instanceof MqttProperties.IntegerProperty && intWidth(id) > 0) {
                n += 1 + intWidth(id);
            } else if (prop instanceof MqttProperties.StringProperty str && isStringId(id)) {
                n += 1 + 2 + ByteBufUtil.utf8Bytes(str.value());
            } else if (prop instanceof MqttProperties.BinaryProperty bin && isBinaryId(id)) {
                n += 1 + 2 + bin.value().length;
            } else {
                return -1;
            }
        }
        return n;
    }

    private static void writeProperties(ByteBuf buf, MqttProperties props) {
        for (MqttProperties.MqttProperty<?> prop : props.listAll()) {
            int id = prop.propertyId();
            if (prop instanceof MqttProperties.UserProperties u) {
                for (MqttProperties.StringPair pair : u.value()) {
                    buf.writeByte(MqttProperties.USER_PROPERTY);
                    Packets.writeString(buf, pair.key);
                    Packets.writeString(buf, pair.value);
                }
            } else if (prop instanceof MqttProperties.UserProperty u) {
                buf.writeByte(MqttProperties.USER_PROPERTY);
                Packets.writeString(buf, u.value().key);
                Packets.writeString(buf, u.value().value);
            } else if (prop instanceof MqttProperties.IntegerProperty i) {
                buf.writeByte(id);
                switch (intWidth(id)) {
                    case 1 -> buf.writeByte(i.value());
                    case 2 -> buf.writeShort(i.value());
                    default -> buf.writeInt(i.value());
                }
            } else if (prop instanceof MqttProperties.StringProperty str) {
                buf.writeByte(id);
                Packets.writeString(buf, str.value());
            } else if (prop instanceof MqttProperties.BinaryProperty bin) {
                buf.writeByte(id);
                buf.writeShort(bin.value().length).writeBytes(bin.value());
            }
        }
    }

    /** @return the width in bytes of an integer property a CONNECT or its Will may carry, 0 for any other id */
    private static int intWidth(int id) {
        return switch (id) {
            case MqttProperties.PAYLOAD_FORMAT_INDICATOR, MqttProperties.REQUEST_PROBLEM_INFORMATION,
                    MqttProperties.REQUEST_RESPONSE_INFORMATION -> 1;
            case MqttProperties.RECEIVE_MAXIMUM, MqttProperties.TOPIC_ALIAS_MAXIMUM -> 2;
            case MqttProperties.PUBLICATION_EXPIRY_INTERVAL, MqttProperties.SESSION_EXPIRY_INTERVAL,
                    MqttProperties.WILL_DELAY_INTERVAL, MqttProperties.MAXIMUM_PACKET_SIZE -> 4;
            default -> 0;
        };
    }

    private static boolean isStringId(int id) {
        return id == MqttProperties.CONTENT_TYPE || id == MqttProperties.RESPONSE_TOPIC
                || id == MqttProperties.AUTHENTICATION_METHOD;
    }

    private static boolean isBinaryId(int id) {
        return id == MqttProperties.CORRELATION_DATA || id == MqttProperties.AUTHENTICATION_DATA;
    }

    /**
     * The MQTT 3.1.1 Clean Session flag. Configured for 3.1.1, it is the clean start setting. Configured for MQTT 5
     * and fallen back, the MQTT 5 settings are translated: 3.1.1 keeps a session after the connection only with
     * Clean Session 0, which also resumes the old one, so it is 0 only when the client asked both to resume
     * (clean start off) and to be kept (a session expiry above zero); the broker then keeps it by its own rules,
     * not for the session expiry.
     *
     * @param c       the client settings
     * @param version the version spoken
     * @return the flag to send
     */
    static boolean cleanSession(MqttClientConfig c, MqttVersion version) {
        if (version == MqttVersion.MQTT_5 || !c.isV5()) {
            return c.cleanStart();
        }
        return c.cleanStart() || c.sessionExpiry().isZero();
    }

    /**
     * @param c the client settings, configured for MQTT 5
     * @return what of them MQTT 3.1.1 cannot carry, for the fallback notice; empty if nothing
     */
    static String lostInFallback(MqttClientConfig c) {
        java.util.List<String> lost = new java.util.ArrayList<>();
        if (!c.sessionExpiry().isZero()) {
            lost.add("sessionExpiry " + c.sessionExpiry().getSeconds() + " s (Clean Session " + (cleanSession(c,
                    MqttVersion.MQTT_3_1_1) ? "1: the session ends with the connection" : "0: the broker keeps the session by its own rules") + ")");
        }
        MqttWill will = c.will();
        if (will != null && !will.delay().isZero()) {
            lost.add("the Will Delay of " + will.delay().getSeconds() + " s (the broker publishes the Will at once)");
        }
        if (will != null && (will.messageExpiry().isPresent() || will.message().contentType().isPresent()
                || !will.message().userProperties().isEmpty())) {
            lost.add("the Will's properties");
        }
        lost.add("the Receive Maximum and Maximum Packet Size announcements, message properties and subscription options"
                + " (No Local, Retain As Published, Subscription Identifiers)");
        return String.join("; ", lost);
    }

    /**
     * @param ack     the CONNACK
     * @param version the protocol version spoken
     * @param current the endpoint connected to (a Server Reference keeps its scheme and path)
     * @return the refusal if the CONNACK refuses the connection, null if it accepts it
     */
    static @Nullable MqttConnackRefusedException refusal(MqttConnAckMessage ack, MqttVersion version, Endpoint current) {
        int code = ack.variableHeader().connectReturnCode().byteValue() & 0xFF;
        if (code == 0) {
            return null;
        }
        MqttProperties props = ack.variableHeader().properties();
        Endpoint ref = serverReference(props, current);
        return new MqttConnackRefusedException(version, code,
                Packets.stringProperty(props, MqttProperties.REASON_STRING), ref);
    }

    /**
     * @param ack       a CONNACK that accepts the connection
     * @param config    the client settings (what the broker does not override)
     * @param transport the transport's name, for the session's description
     * @return what the CONNACK granted
     */
    static NegotiatedSession negotiated(MqttConnAckMessage ack, MqttClientConfig config, String transport) {
        return negotiated(ack.variableHeader().isSessionPresent(), ack.variableHeader().properties(), config.version(),
                config, transport);
    }

    /**
     * @param sessionPresent the CONNACK's session present flag
     * @param props          its properties (none for MQTT 3.1.1)
     * @param version        the version spoken on the connection
     * @param config         the client settings (what the broker does not override)
     * @param transport      the transport's name, for the session's description
     * @return what the CONNACK granted
     */
    static NegotiatedSession negotiated(boolean sessionPresent, MqttProperties props, MqttVersion version,
                                        MqttClientConfig config, String transport) {
        Duration keepAlive = config.keepAlive();
        Integer serverKeepAlive = Packets.intProperty(props, MqttProperties.SERVER_KEEP_ALIVE);
        if (serverKeepAlive != null) {
            keepAlive = Duration.ofSeconds(serverKeepAlive);
        }
        Integer receiveMax = Packets.intProperty(props, MqttProperties.RECEIVE_MAXIMUM);
        Integer maxQos = Packets.intProperty(props, MqttProperties.MAXIMUM_QOS);
        Integer retain = Packets.intProperty(props, MqttProperties.RETAIN_AVAILABLE);
        Integer maxPacket = Packets.intProperty(props, MqttProperties.MAXIMUM_PACKET_SIZE);
        String assigned = Packets.stringProperty(props, MqttProperties.ASSIGNED_CLIENT_IDENTIFIER);
        Integer subIds = Packets.intProperty(props, MqttProperties.SUBSCRIPTION_IDENTIFIER_AVAILABLE);
        Integer shared = Packets.intProperty(props, MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE);
        return new NegotiatedSession(version, sessionPresent,
                assigned != null ? assigned : config.clientId(), keepAlive,
                receiveMax == null || receiveMax == 0 ? 0xFFFF : receiveMax,
                maxQos == null ? MqttQos.EXACTLY_ONCE : MqttQos.of(Math.min(2, maxQos)),
                retain == null || retain != 0, Optional.ofNullable(maxPacket == null ? null : Integer.toUnsignedLong(maxPacket)),
                transport, version == MqttVersion.MQTT_5 && (subIds == null || subIds != 0), shared == null || shared != 0);
    }

    /**
     * The first server of a Server Reference (MQTT 5 §4.11), on the current endpoint's scheme, path and query.
     *
     * @param props   the CONNACK's or DISCONNECT's properties
     * @param current the endpoint connected to
     * @return the endpoint, or null if there is no usable reference
     */
    static @Nullable Endpoint serverReference(MqttProperties props, Endpoint current) {
        String ref = Packets.stringProperty(props, MqttProperties.SERVER_REFERENCE);
        if (ref == null || ref.isBlank()) {
            return null;
        }
        String first = ref.trim().split("\\s+")[0];
        URI uri = current.uri();
        try {
            URI parsed = URI.create(uri.getScheme() + "://" + first);
            return Endpoint.of(new URI(uri.getScheme(), null, parsed.getHost(),
                    parsed.getPort() == -1 ? uri.getPort() : parsed.getPort(), uri.getPath(), uri.getQuery(), null));
        } catch (Exception e) {
            log.debug("unusable server reference '{}': {}", first, e.toString());
            return null;
        }
    }
}
