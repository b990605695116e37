package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static dev.tether.mqtt.test.FakeBroker.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Maximum packet size both ways, packets whose lengths disagree, and packets that never complete.
 */
class PacketLimitsIT {

    static final byte[] CONNACK_V5_OK = bytes(0x20, 0x03, 0x00, 0x00, 0x00);

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build();
    }

    /** A QoS 0 PUBLISH to topic {@code t} whose whole packet is {@code total} bytes (total < 16384). */
    static byte[] publishOfSize(int total) {
        int remaining = total - 3;
        int payload = remaining - 2 - 1 - 1;
        byte[] head = bytes(0x30, 0x80 | (remaining & 0x7F), remaining >> 7, 0x00, 0x01, 't', 0x00);
        byte[] body = new byte[payload];
        Arrays.fill(body, (byte) 'x');
        return concat(head, body);
    }

    @Test
    void anInboundPacketLargerThanTheClientsLimitIsRefusedFromItsHeaderWith0x95AndTheClientReconnects() {
        // A PUBLISH announcing a remaining length of 200 MB: only its fixed header is ever sent.
        byte[] huge = bytes(0x30, 0x80, 0x80, 0xE0, 0x5F);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, huge) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).maxPacketSize(1024).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("PUBLISH packet of 200802309 bytes")
                    .hasMessageContaining("larger than the client's maximum packet size of 1024 bytes (maxPacketSize)");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.DISCONNECT)
                    .first().satisfies(m -> assertThat(((MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader())
                            .reasonCode() & 0xFF).isEqualTo(0x95));
            // The limit was announced in CONNECT.
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.CONNECT)
                    .first().satisfies(m -> assertThat(((MqttConnectMessage) m).variableHeader().properties()
                            .getProperty(MqttProperties.MAXIMUM_PACKET_SIZE).value()).isEqualTo(1024));
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPacketOfExactlyTheLimitIsDeliveredAndOneByteMoreIsNot() {
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, publishOfSize(1024), publishOfSize(1025))
                : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).maxPacketSize(1024).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            Recorder<MqttMessage> messages = Recorder.of(client.subscribe("t", MqttQos.AT_MOST_ONCE));
            client.start();
            MqttMessage first = messages.await(m -> true, Duration.ofSeconds(10));
            assertThat(first.payloadSize()).isEqualTo(1024 - 7);
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.cause()).hasMessageContaining("PUBLISH packet of 1025 bytes");
            assertThat(messages.items()).hasSize(1);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPublishLargerThanTheBrokersMaximumFailsAloneNamingBothSizes() {
        // CONNACK with Maximum Packet Size (0x27) = 100 bytes.
        byte[] connack = bytes(0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 100);
        try (FakeBroker broker = FakeBroker.start(n -> connack)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            MqttSession session = client.awaitConnected(Duration.ofSeconds(10)).block();
            assertThat(session.maximumPacketSize()).contains(100L);
            assertThatThrownBy(() -> client.publish("big", new byte[200], MqttQos.AT_LEAST_ONCE).block(Duration.ofSeconds(5)))
                    .isInstanceOfSatisfying(MqttPacketTooLargeException.class, e -> {
                        assertThat(e.packetSize()).isEqualTo(1 + 2 + 2 + 3 + 2 + 1 + 200);
                        assertThat(e.limit()).isEqualTo(100);
                        assertThat(e.brokerLimit()).isTrue();
                    })
                    .hasMessageContaining("would be 211 bytes")
                    .hasMessageContaining("broker's Maximum Packet Size of 100 bytes")
                    .hasMessageContaining("client maxPacketSize 1048576 bytes");
            // The connection stays up: the next publish goes out on it.
            client.publish("small", new byte[10], MqttQos.AT_MOST_ONCE).block(Duration.ofSeconds(5));
            broker.receivedTypes().filter(t -> t == MqttMessageType.PUBLISH).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.PUBLISH)
                    .singleElement().satisfies(m -> assertThat(((MqttPublishMessage) m).variableHeader().topicName()).isEqualTo("small"));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
            assertThat(broker.accepted()).isEqualTo(1);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPublishLargerThanTheClientsLimitFailsAtOnceEvenWhileDisconnected() {
        MqttClient client = MqttClient.builder().endpoint("tcp://127.0.0.1:1").maxPacketSize(100).build();
        assertThatThrownBy(() -> client.publish("big", new byte[100], MqttQos.AT_MOST_ONCE).block(Duration.ofSeconds(5)))
                .isInstanceOfSatisfying(MqttPacketTooLargeException.class, e -> assertThat(e.brokerLimit()).isFalse())
                .hasMessageContaining("would be 108 bytes, larger than the client's maxPacketSize of 100 bytes")
                .hasMessageContaining("broker Maximum Packet Size not announced");
        client.close().block(Duration.ofSeconds(5));
    }

    @Test
    void maxPacketSizeIsValidated() {
        assertThatThrownBy(() -> MqttClient.builder().maxPacketSize(63)).hasMessageContaining("maxPacketSize").hasMessageContaining("63");
        assertThatThrownBy(() -> MqttClient.builder().maxPacketSize(MqttClient.Builder.MAX_MQTT_PACKET_SIZE + 1))
                .hasMessageContaining("268435461");
        assertThatThrownBy(() -> MqttClient.builder().incompletePacketTimeout(Duration.ZERO))
                .hasMessageContaining("incompletePacketTimeout").hasMessageContaining("PT0S");
    }

    @Test
    void aPacketWhoseTopicLengthRunsPastItsRemainingLengthIsAProtocolErrorAtOnce() {
        // A QoS 1 PUBLISH whose topic length (64) runs past its remaining length (6), followed by a valid PINGRESP.
        byte[] lying = bytes(0x32, 0x06, 0x00, 0x40, 'a', '/', 0x00, 0x05, 0xD0, 0x00);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, lying) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            long t0 = System.nanoTime();
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            // Keepalive is 60 s: the error is found from the bytes, not from a timer.
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("PUBLISH packet whose fields run past its remaining length of 6 bytes");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            assertThat(broker.received()).noneMatch(m -> m.fixedHeader().messageType() == MqttMessageType.PUBACK);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aRemainingLengthOfFiveBytesIsMalformed() {
        byte[] bad = bytes(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, bad) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class).hasMessageContaining("more than 4 bytes");
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPacketThatStaysIncompleteIsAProtocolErrorAtTheTimeoutInVirtualTime() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        // CONNACK, then the first 5 of 12 bytes of a PUBLISH.
        byte[] partial = bytes(0x30, 0x0A, 0x00, 0x01, 't');
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, partial) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).scheduler(vts)
                    .incompletePacketTimeout(Duration.ofSeconds(5)).attemptTimeout(Duration.ofSeconds(60)).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            events.await(LifecycleEvent.Connected.class, Duration.ofSeconds(10));
            // A write completed on the event loop after the read that carried the partial packet has finished.
            client.publish("x", new byte[1], MqttQos.AT_MOST_ONCE).block(Duration.ofSeconds(5));
            vts.advanceTimeBy(Duration.ofSeconds(4));
            client.publish("x", new byte[1], MqttQos.AT_MOST_ONCE).block(Duration.ofSeconds(5));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
            vts.advanceTimeBy(Duration.ofSeconds(1));
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(5));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("incomplete PUBLISH packet: 5 of 12 bytes arrived")
                    .hasMessageContaining("within 5000 ms (incompletePacketTimeout)");
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
            client.close().block(Duration.ofSeconds(5));
        } finally {
            vts.dispose();
        }
    }

    @Test
    void aConnackThatNeverCompletesFailsTheAttemptAtTheIncompletePacketTimeout() {
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? bytes(0x20, 0x03, 0x00) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).connackTimeout(Duration.ofSeconds(30))
                    .incompletePacketTimeout(Duration.ofMillis(300)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("incomplete CONNACK packet: 3 of 5 bytes arrived");
            client.awaitConnected(Duration.ofSeconds(10)).block();
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void overWebSocketAPacketSplitAcrossFramesIsBoundedByItsTotalSizeAndAPartialOneByTheTimeout() {
        try (dev.tether.mqtt.test.FakeWebSocketBroker broker = dev.tether.mqtt.test.FakeWebSocketBroker.start()) {
            // Three frames of 600 bytes each, smaller than the limit, carrying one PUBLISH of 1800 bytes.
            byte[] big = publishOfSize(1800);
            broker.afterNextConnack(List.of(Arrays.copyOfRange(big, 0, 600), Arrays.copyOfRange(big, 600, 1200),
                    Arrays.copyOfRange(big, 1200, 1800)));
            // The next connection: half a PUBLISH, then nothing.
            broker.afterNextConnack(List.of(Arrays.copyOfRange(publishOfSize(200), 0, 100)));
            MqttClient client = MqttClient.builder().endpoint(broker.wsUri()).maxPacketSize(1024)
                    .incompletePacketTimeout(Duration.ofMillis(300)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class).hasMessageContaining("PUBLISH packet of 1800 bytes");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            LifecycleEvent.Disconnected second = events.await(e -> e instanceof LifecycleEvent.Disconnected x && x.generation() == 2,
                    Duration.ofSeconds(10)) instanceof LifecycleEvent.Disconnected x ? x : null;
            assertThat(second).isNotNull();
            assertThat(second.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("incomplete PUBLISH packet: 100 of 200 bytes");
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void overWebSocketASingleFrameLargerThanTheLimitIsRefusedClearly() {
        try (dev.tether.mqtt.test.FakeWebSocketBroker broker = dev.tether.mqtt.test.FakeWebSocketBroker.start()) {
            broker.afterNextConnack(List.of(publishOfSize(1800)));
            MqttClient client = MqttClient.builder().endpoint(broker.wsUri()).maxPacketSize(1024).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("the broker sent a WebSocket frame the client refuses")
                    .hasMessageContaining("maxPacketSize 1024 bounds WebSocket frames too");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aTopicAliasTheClientNeverAllowedIsAProtocolError() {
        // PUBLISH QoS 0, topic "p", properties: Topic Alias (0x23) = 5.
        byte[] aliased = bytes(0x30, 0x08, 0x00, 0x01, 'p', 0x03, 0x23, 0x00, 0x05, 'x');
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, aliased) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            Recorder<MqttMessage> messages = Recorder.of(client.subscribe("p", MqttQos.AT_MOST_ONCE));
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class).hasMessageContaining("Topic Alias 5");
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.DISCONNECT)
                    .first().satisfies(m -> assertThat(((MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader())
                            .reasonCode() & 0xFF).isEqualTo(0x94));
            assertThat(messages.items()).isEmpty();
            client.close().block(Duration.ofSeconds(5));
        }
    }
}
