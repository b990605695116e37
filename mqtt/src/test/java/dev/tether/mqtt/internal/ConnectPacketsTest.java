package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.MqttConnackRefusedException;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** CONNECT built from the settings and CONNACK read into a session, on Netty's message objects (no sockets). */
class ConnectPacketsTest {

    private static MqttClientConfig config(MqttVersion version, @Nullable MqttWill will, @Nullable String authenticationMethod,
                                           Duration sessionExpiry, int receiveMaximum) {
        return new MqttClientConfig("client-1", version, true, true, sessionExpiry, Duration.ofSeconds(30), Duration.ofSeconds(10),
                Duration.ofSeconds(10), will, 100, OverflowPolicy.FAIL_NEWEST, 100, receiveMaximum, 65_536,
                Duration.ofSeconds(5), Duration.ofSeconds(1), null, c -> Map.of(), c -> Map.of(), authenticationMethod,
                Duration.ofSeconds(10), 100, false);
    }

    private static MqttClientConfig v5() {
        return config(MqttVersion.MQTT_5, null, null, Duration.ZERO, 0xFFFF);
    }

    private static MqttClientConfig v311() {
        return config(MqttVersion.MQTT_3_1_1, null, null, Duration.ZERO, 0xFFFF);
    }

    private static @Nullable Object property(MqttProperties props, int id) {
        MqttProperties.MqttProperty<?> p = props.getProperty(id);
        return p == null ? null : p.value();
    }

    // ------------------------------------------------------------------ CONNECT

    @Test
    void mqtt5ConnectCarriesTheSettingsAsProperties() {
        MqttConnectMessage m = ConnectPackets.connect(config(MqttVersion.MQTT_5, null, null, Duration.ofHours(1), 20),
                Credentials.of("user", "pw"));

        assertThat(m.variableHeader().version()).isEqualTo(5);
        assertThat(m.variableHeader().isCleanSession()).isTrue();
        assertThat(m.variableHeader().keepAliveTimeSeconds()).isEqualTo(30);
        assertThat(m.variableHeader().hasUserName()).isTrue();
        assertThat(m.variableHeader().hasPassword()).isTrue();
        assertThat(m.variableHeader().isWillFlag()).isFalse();
        assertThat(m.payload().clientIdentifier()).isEqualTo("client-1");
        assertThat(m.payload().userName()).isEqualTo("user");
        assertThat(new String(m.payload().passwordInBytes(), StandardCharsets.UTF_8)).isEqualTo("pw");
        MqttProperties props = m.variableHeader().properties();
        assertThat(property(props, MqttProperties.SESSION_EXPIRY_INTERVAL)).isEqualTo(3600);
        assertThat(property(props, MqttProperties.RECEIVE_MAXIMUM)).isEqualTo(20);
        assertThat(property(props, MqttProperties.MAXIMUM_PACKET_SIZE)).isEqualTo(65_536);
        assertThat(property(props, MqttProperties.AUTHENTICATION_METHOD)).isNull();
    }

    @Test
    void defaultsAreLeftOutOfTheMqtt5Connect() {
        MqttConnectMessage m = ConnectPackets.connect(v5(), Credentials.none());

        MqttProperties props = m.variableHeader().properties();
        assertThat(property(props, MqttProperties.SESSION_EXPIRY_INTERVAL)).isNull();
        assertThat(property(props, MqttProperties.RECEIVE_MAXIMUM)).isNull();
        assertThat(property(props, MqttProperties.MAXIMUM_PACKET_SIZE)).isEqualTo(65_536);
        assertThat(m.variableHeader().hasUserName()).isFalse();
        assertThat(m.variableHeader().hasPassword()).isFalse();
    }

    @Test
    void withAnAuthenticationMethodTheSecretIsAuthenticationDataNotAPassword() {
        MqttConnectMessage m = ConnectPackets.connect(config(MqttVersion.MQTT_5, null, "TOKEN", Duration.ZERO, 0xFFFF),
                Credentials.of("user", "secret"));

        MqttProperties props = m.variableHeader().properties();
        assertThat(property(props, MqttProperties.AUTHENTICATION_METHOD)).isEqualTo("TOKEN");
        assertThat((byte[]) property(props, MqttProperties.AUTHENTICATION_DATA))
                .isEqualTo("secret".getBytes(StandardCharsets.UTF_8));
        assertThat(m.variableHeader().hasPassword()).isFalse();
        assertThat(m.variableHeader().hasUserName()).isTrue();
    }

    @Test
    void mqtt311ConnectWithAPasswordAloneSendsAnEmptyUserName() {
        MqttConnectMessage m = ConnectPackets.connect(v311(), Credentials.of(null, "pw"));

        assertThat(m.variableHeader().version()).isEqualTo(4);
        assertThat(m.variableHeader().hasUserName()).isTrue();
        assertThat(m.payload().userName()).isEmpty();
        assertThat(m.variableHeader().hasPassword()).isTrue();
        assertThat(m.variableHeader().properties().isEmpty()).isTrue();
    }

    @Test
    void mqtt5PasswordWithoutUserNameStaysWithoutUserName() {
        MqttConnectMessage m = ConnectPackets.connect(v5(), Credentials.of(null, "pw"));

        assertThat(m.variableHeader().hasUserName()).isFalse();
        assertThat(m.variableHeader().hasPassword()).isTrue();
    }

    @Test
    void theWillGoesWithItsPropertiesInMqtt5() {
        MqttWill will = MqttWill.builder(MqttMessage.builder("status/c1").payload("gone".getBytes(StandardCharsets.UTF_8))
                        .qos(MqttQos.AT_LEAST_ONCE).retain(true).contentType("text/plain").userProperty("k", "v").build())
                .delay(Duration.ofSeconds(5)).messageExpiry(Duration.ofMinutes(1)).build();
        MqttConnectMessage m = ConnectPackets.connect(config(MqttVersion.MQTT_5, will, null, Duration.ZERO, 0xFFFF),
                Credentials.none());

        assertThat(m.variableHeader().isWillFlag()).isTrue();
        assertThat(m.variableHeader().isWillRetain()).isTrue();
        assertThat(m.variableHeader().willQos()).isEqualTo(1);
        assertThat(m.payload().willTopic()).isEqualTo("status/c1");
        assertThat(new String(m.payload().willMessageInBytes(), StandardCharsets.UTF_8)).isEqualTo("gone");
        MqttProperties wp = m.payload().willProperties();
        assertThat(property(wp, MqttProperties.WILL_DELAY_INTERVAL)).isEqualTo(5);
        assertThat(property(wp, MqttProperties.PUBLICATION_EXPIRY_INTERVAL)).isEqualTo(60);
        assertThat(property(wp, MqttProperties.CONTENT_TYPE)).isEqualTo("text/plain");
        assertThat(wp.getProperties(MqttProperties.USER_PROPERTY)).hasSize(1);
    }

    /** Netty's encoder writing the message: the reference the direct encoding must match byte for byte. */
    private static byte[] nettyBytes(MqttConnectMessage m) {
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(
                io.netty.handler.codec.mqtt.MqttEncoder.INSTANCE);
        ch.writeOutbound(m);
        io.netty.buffer.ByteBuf out = io.netty.buffer.Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) o;
            out.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        return io.netty.buffer.ByteBufUtil.getBytes(out);
    }

    private static byte[] directBytes(MqttConnectMessage m) {
        io.netty.buffer.ByteBuf b = ConnectPackets.encode(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, m);
        assertThat(b).as("encoded directly").isNotNull();
        try {
            assertThat(b.writableBytes()).as("the buffer was sized exactly").isZero();
            return io.netty.buffer.ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void theDirectEncodingIsByteForByteNettysForEveryKindOfConnect() {
        MqttWill fullWill = MqttWill.builder(MqttMessage.builder("status/ü-c1").payload("gone".getBytes(StandardCharsets.UTF_8))
                        .qos(MqttQos.EXACTLY_ONCE).retain(true).contentType("text/plain").userProperty("k", "v")
                        .userProperty("k2", "vé").build())
                .delay(Duration.ofSeconds(5)).messageExpiry(Duration.ofMinutes(1)).build();
        MqttWill plainWill = MqttWill.of(MqttMessage.builder("status/c1").payload(new byte[0]).build());
        java.util.List<MqttConnectMessage> cases = new java.util.ArrayList<>();
        for (MqttVersion version : MqttVersion.values()) {
            for (MqttWill will : java.util.Arrays.asList(null, fullWill, plainWill)) {
                for (Credentials creds : java.util.List.of(Credentials.none(), Credentials.of("user", "pw"),
                        Credentials.of(null, "secret"), Credentials.of("ünïcode", ""))) {
                    cases.add(ConnectPackets.connect(config(version, will, null, Duration.ZERO, 0xFFFF), creds));
                    cases.add(ConnectPackets.connect(config(version, will, null, Duration.ofHours(2), 20), creds));
                    cases.add(ConnectPackets.connect(config(version, will, "TOKEN", Duration.ofSeconds(1), 0xFFFF), creds));
                    cases.add(ConnectPackets.connect(config(version, will, null, Duration.ZERO, 0xFFFF), creds,
                            MqttVersion.MQTT_3_1_1));
                }
            }
        }
        assertThat(cases).hasSizeGreaterThan(90);
        for (MqttConnectMessage m : cases) {
            assertThat(directBytes(m)).as("CONNECT %s", m).isEqualTo(nettyBytes(m));
        }
    }

    @Test
    void afterADirectlyEncodedConnectNettysDecoderReadsTheConnackInItsVersion() {
        MqttConnectMessage m = ConnectPackets.connect(v5(), Credentials.none());
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(
                new io.netty.handler.codec.mqtt.MqttDecoder());
        ConnectPackets.announceVersion(ch, m);
        // CONNACK, session present 0, reason 0, properties: Receive Maximum 10, Topic Alias Maximum 5
        ch.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {0x20, 9, 0, 0, 6, 0x21, 0, 10, 0x22, 0, 5}));
        MqttConnAckMessage ack = ch.readInbound();
        assertThat(ack.decoderResult().isSuccess()).as("%s", ack.decoderResult()).isTrue();
        assertThat(property(ack.variableHeader().properties(), MqttProperties.RECEIVE_MAXIMUM)).isEqualTo(10);
        assertThat(property(ack.variableHeader().properties(), MqttProperties.TOPIC_ALIAS_MAXIMUM)).isEqualTo(5);
        ch.finishAndReleaseAll();
    }

    @Test
    void aPropertyTheDirectEncodingDoesNotKnowLeavesTheMessageToNetty() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, 7));
        MqttConnectMessage m = MqttMessageBuilders.connect().protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_5)
                .clientId("c").properties(props).build();
        assertThat(ConnectPackets.encode(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, m)).isNull();
        MqttConnectMessage v31 = MqttMessageBuilders.connect().protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1)
                .clientId("c").build();
        assertThat(ConnectPackets.encode(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, v31)).isNull();
    }

    @Test
    void theMqtt311WillHasNoProperties() {
        MqttWill will = MqttWill.of(MqttMessage.builder("status/c1").payload("gone".getBytes(StandardCharsets.UTF_8))
                .contentType("text/plain").build());
        MqttConnectMessage m = ConnectPackets.connect(config(MqttVersion.MQTT_3_1_1, will, null, Duration.ZERO, 0xFFFF),
                Credentials.none());

        assertThat(m.variableHeader().isWillFlag()).isTrue();
        assertThat(m.payload().willProperties().isEmpty()).isTrue();
    }

    // ------------------------------------------------------------------ CONNACK

    private static MqttConnAckMessage connack(MqttConnectReturnCode code, boolean sessionPresent, MqttProperties props) {
        return MqttMessageBuilders.connAck().returnCode(code).sessionPresent(sessionPresent).properties(props).build();
    }

    @Test
    void anAcceptingConnackWithoutPropertiesKeepsTheDefaults() {
        MqttConnAckMessage ack = connack(MqttConnectReturnCode.CONNECTION_ACCEPTED, true, MqttProperties.NO_PROPERTIES);
        Endpoint here = Endpoint.of("tcp://broker:1883");

        assertThat(ConnectPackets.refusal(ack, MqttVersion.MQTT_5, here)).isNull();
        NegotiatedSession s = ConnectPackets.negotiated(ack, v5(), "tcp");
        assertThat(s).isEqualTo(new NegotiatedSession(MqttVersion.MQTT_5, true, "client-1", Duration.ofSeconds(30), 0xFFFF,
                MqttQos.EXACTLY_ONCE, true, Optional.empty(), "tcp", true, true));
    }

    @Test
    void theBrokersPropertiesShapeTheSession() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.SERVER_KEEP_ALIVE, 120));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 10));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_QOS, 1));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.RETAIN_AVAILABLE, 0));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, 0x8000_0000));
        props.add(new MqttProperties.StringProperty(MqttProperties.ASSIGNED_CLIENT_IDENTIFIER, "assigned-7"));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE, 0));

        NegotiatedSession s = ConnectPackets.negotiated(connack(MqttConnectReturnCode.CONNECTION_ACCEPTED, false, props),
                v5(), "wss");

        assertThat(s).isEqualTo(new NegotiatedSession(MqttVersion.MQTT_5, false, "assigned-7", Duration.ofSeconds(120), 10,
                MqttQos.AT_LEAST_ONCE, false, Optional.of(0x8000_0000L), "wss", false, false));
    }

    @Test
    void aReceiveMaximumOfZeroMeansTheDefault() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 0));

        assertThat(ConnectPackets.negotiated(connack(MqttConnectReturnCode.CONNECTION_ACCEPTED, false, props), v5(), "tcp")
                .receiveMaximum()).isEqualTo(0xFFFF);
    }

    @Test
    void mqtt311HasNoSubscriptionIdentifiers() {
        MqttConnAckMessage ack = connack(MqttConnectReturnCode.CONNECTION_ACCEPTED, false, MqttProperties.NO_PROPERTIES);

        NegotiatedSession s = ConnectPackets.negotiated(ack, v311(), "tcp");

        assertThat(s.version()).isEqualTo(MqttVersion.MQTT_3_1_1);
        assertThat(s.subscriptionIdentifiersAvailable()).isFalse();
        assertThat(s.sharedSubscriptionsAvailable()).isTrue();
    }

    @Test
    void aRefusingConnackNamesItsReasonAndServerReference() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.StringProperty(MqttProperties.REASON_STRING, "moved"));
        props.add(new MqttProperties.StringProperty(MqttProperties.SERVER_REFERENCE, "other.example:8883 third:1"));
        MqttConnAckMessage ack = connack(MqttConnectReturnCode.CONNECTION_REFUSED_USE_ANOTHER_SERVER, false, props);

        MqttConnackRefusedException refused = ConnectPackets.refusal(ack, MqttVersion.MQTT_5,
                Endpoint.of("wss://broker.example:443/mqtt?x=1"));

        assertThat(refused).isNotNull();
        assertThat(refused.reasonCode()).isEqualTo(0x9C);
        assertThat(refused.reasonString()).contains("moved");
        assertThat(refused.serverReference()).contains(Endpoint.of("wss://other.example:8883/mqtt?x=1"));
    }

    @Test
    void aMqtt311RefusalCarriesItsReturnCode() {
        MqttConnAckMessage ack = connack(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, false,
                MqttProperties.NO_PROPERTIES);

        MqttConnackRefusedException refused = ConnectPackets.refusal(ack, MqttVersion.MQTT_3_1_1,
                Endpoint.of("tcp://broker:1883"));

        assertThat(refused).isNotNull();
        assertThat(refused.reasonCode()).isEqualTo(5);
        assertThat(refused.serverReference()).isEmpty();
    }

    // ------------------------------------------------------------------ Server Reference

    @Test
    void aServerReferenceWithoutPortKeepsTheCurrentPort() {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.StringProperty(MqttProperties.SERVER_REFERENCE, "  backup.example  "));

        assertThat(ConnectPackets.serverReference(props, Endpoint.of("mqtts://broker.example:8883")))
                .isEqualTo(Endpoint.of("mqtts://backup.example:8883"));
    }

    @Test
    void noOrAnUnusableServerReferenceIsNull() {
        Endpoint here = Endpoint.of("tcp://broker:1883");
        MqttProperties blank = new MqttProperties();
        blank.add(new MqttProperties.StringProperty(MqttProperties.SERVER_REFERENCE, "   "));
        MqttProperties bad = new MqttProperties();
        bad.add(new MqttProperties.StringProperty(MqttProperties.SERVER_REFERENCE, "[::1"));

        assertThat(ConnectPackets.serverReference(MqttProperties.NO_PROPERTIES, here)).isNull();
        assertThat(ConnectPackets.serverReference(blank, here)).isNull();
        assertThat(ConnectPackets.serverReference(bad, here)).isNull();
    }

    @Test
    void afterAFallbackTheMqtt5SessionSettingsAreTranslatedToCleanSession() {
        MqttClientConfig keep = new MqttClientConfig("client-1", MqttVersion.MQTT_5, true, false, Duration.ofHours(1),
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10), null, 100, OverflowPolicy.FAIL_NEWEST,
                100, 100, 65_536, Duration.ofSeconds(5), Duration.ofSeconds(1), null, c -> Map.of(), c -> Map.of(), null,
                Duration.ofSeconds(10), 100, false);
        // Resume and keep: Clean Session 0; MQTT 5 keeps the flags as they are.
        assertThat(ConnectPackets.connect(keep, Credentials.none(), MqttVersion.MQTT_3_1_1).variableHeader().isCleanSession()).isFalse();
        assertThat(ConnectPackets.connect(keep, Credentials.none(), MqttVersion.MQTT_5).variableHeader().isCleanSession()).isFalse();
        assertThat(ConnectPackets.connect(keep, Credentials.none(), MqttVersion.MQTT_3_1_1).variableHeader().version()).isEqualTo(4);
        assertThat(ConnectPackets.lostInFallback(keep)).contains("sessionExpiry 3600 s (Clean Session 0");
        // Resume but end with the connection (expiry 0): a 3.1.1 broker would keep a Clean Session 0 session forever.
        MqttClientConfig resumeOnly = new MqttClientConfig("client-1", MqttVersion.MQTT_5, true, false, Duration.ZERO,
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10), null, 100, OverflowPolicy.FAIL_NEWEST,
                100, 100, 65_536, Duration.ofSeconds(5), Duration.ofSeconds(1), null, c -> Map.of(), c -> Map.of(), null,
                Duration.ofSeconds(10), 100, false);
        assertThat(ConnectPackets.connect(resumeOnly, Credentials.none(), MqttVersion.MQTT_3_1_1).variableHeader().isCleanSession()).isTrue();
        assertThat(ConnectPackets.connect(resumeOnly, Credentials.none(), MqttVersion.MQTT_5).variableHeader().isCleanSession()).isFalse();
        // Configured for 3.1.1: clean start is Clean Session, as always.
        assertThat(ConnectPackets.cleanSession(new MqttClientConfig("client-1", MqttVersion.MQTT_3_1_1, false, false, Duration.ZERO,
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10), null, 100, OverflowPolicy.FAIL_NEWEST,
                100, 100, 65_536, Duration.ofSeconds(5), Duration.ofSeconds(1), null, c -> Map.of(), c -> Map.of(), null,
                Duration.ofSeconds(10), 100, false), MqttVersion.MQTT_3_1_1)).isFalse();
    }
}
