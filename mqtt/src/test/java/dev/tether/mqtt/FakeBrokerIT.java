package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static dev.tether.mqtt.test.FakeBroker.concat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.FatalConnectionException;
import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import dev.tether.testkit.Sockets;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The client against a broker that misbehaves on purpose: malformed and unexpected packets,
 * silence, refusals, redirects and server DISCONNECTs.
 */
class FakeBrokerIT {

    static final byte[] CONNACK_V5_OK = bytes(0x20, 0x03, 0x00, 0x00, 0x00);

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build();
    }

    static void awaitOpen(FakeBroker broker, int n) {
        Integer seen = Flux.interval(Duration.ofMillis(10)).map(i -> broker.open()).filter(o -> o == n).next()
                .timeout(Duration.ofSeconds(15)).onErrorResume(e -> reactor.core.publisher.Mono.empty()).block();
        assertThat(seen).as("connections open at the fake broker: " + broker.open()).isEqualTo(n);
    }

    @Test
    void garbageInsteadOfConnackFailsTheAttemptAndRetries() {
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x00, 0x00, 0x00))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).isInstanceOf(MqttProtocolException.class).hasMessageContaining("malformed packet");
            events.awaitCount(3, e -> e instanceof LifecycleEvent.Connecting, Duration.ofSeconds(10));
            long t0 = System.nanoTime();
            client.close().block(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
            // No leak: every connection the client opened is closed, as the server and the kernel see it.
            awaitOpen(broker, 0);
            assertThat(Sockets.awaitNoneEstablished(broker.port(), Duration.ofSeconds(5))).as("ESTABLISHED sockets left on port " + broker.port()).isTrue();
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
        }
    }

    @Test
    void malformedPublishIsNotAcknowledgedAndTheConnectionIsReplaced() {
        // CONNACK, then a PUBLISH (id 5) with both QoS bits set: QoS 3 does not exist.
        byte[] badPublish = bytes(0x36, 0x06, 0x00, 0x02, 'a', '/', 0x00, 0x05);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, badPublish) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            Recorder<MqttMessage> messages = Recorder.of(client.subscribe("a/#", MqttQos.AT_LEAST_ONCE));
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class).hasMessageContaining("malformed");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            // The client told the broker why (MQTT 5 DISCONNECT 0x81) and acknowledged nothing.
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).noneMatch(m -> m.fixedHeader().messageType() == MqttMessageType.PUBACK);
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.DISCONNECT)
                    .first().satisfies(m -> assertThat(((MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader())
                            .reasonCode() & 0xFF).isEqualTo(0x81));
            assertThat(messages.items()).isEmpty();
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.CloseSent.class,
                    cs -> assertThat(cs.code()).isEqualTo(0x81)));
            client.close().block(Duration.ofSeconds(5));
            awaitOpen(broker, 0);
        }
    }

    @Test
    void unexpectedAcknowledgementIsAProtocolError() {
        byte[] strayPubAck = bytes(0x40, 0x02, 0x00, 0x07);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, strayPubAck) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("PUBACK for packet id 7, which is not a QoS 1 publish in flight");
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            client.close().block(Duration.ofSeconds(5));
            awaitOpen(broker, 0);
        }
    }

    @Test
    void connackTimeoutRunsInVirtualTime() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        try (FakeBroker broker = FakeBroker.start(n -> new byte[0])) {
            // A fixed backoff: with full jitter a delay near zero would start the next attempt at once, and the
            // broker would see that connection open.
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).scheduler(vts)
                    .reconnect(dev.tether.core.ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(1))
                            .jitter(dev.tether.core.Jitter.NONE).build())
                    .connackTimeout(Duration.ofSeconds(10)).attemptTimeout(Duration.ofSeconds(60)).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            broker.receivedTypes().filter(t -> t == MqttMessageType.CONNECT).next().block(Duration.ofSeconds(5));
            vts.advanceTimeBy(Duration.ofSeconds(9));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.RetryScheduled);
            vts.advanceTimeBy(Duration.ofSeconds(1));
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(5));
            assertThat(retry.cause()).hasMessageContaining("no CONNACK within 10000 ms (connackTimeout)");
            assertThat(retry.verdict().kind()).isEqualTo(Verdict.Kind.RETRY);
            // Silence is not a version refusal: the client closed, not the broker.
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Notice n
                    && n.kind().equals(MqttClient.Builder.VERSION_FALLBACK_NOTICE));
            assertThat(broker.accepted()).isEqualTo(1);
            awaitOpen(broker, 0);
            client.close().block(Duration.ofSeconds(5));
        } finally {
            vts.dispose();
        }
    }

    @Test
    void protocolRefusalFailsFastWithAClearMessage() {
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x20, 0x03, 0x00, 0x84, 0x00))) {
            // Pinned to MQTT 5 (by default the client would fall back to 3.1.1: VersionNegotiationIT).
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).versionFallback(false).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            long t0 = System.nanoTime();
            client.start();
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
            assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class)
                    .hasMessageContaining("0x84 unsupported protocol version").hasMessageContaining("version(MQTT_3_1_1)");
            assertThat(broker.accepted()).isEqualTo(1);
            awaitOpen(broker, 0);
        }
    }

    @Test
    void useAnotherServerFollowsTheServerReference() {
        try (FakeBroker target = FakeBroker.start(n -> CONNACK_V5_OK)) {
            byte[] ref = ("127.0.0.1:" + target.port()).getBytes(StandardCharsets.US_ASCII);
            byte[] props = concat(bytes(0x1C, 0x00, ref.length), ref);
            byte[] connack = concat(bytes(0x20, 3 + props.length, 0x00, 0x9C, props.length), props);
            try (FakeBroker first = FakeBroker.start(n -> connack)) {
                MqttClient client = MqttClient.builder().endpoint(first.tcpUri()).reconnect(fast()).build();
                Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
                client.start();
                LifecycleEvent.Connected c = events.await(LifecycleEvent.Connected.class, Duration.ofSeconds(10));
                assertThat(c.endpoint().port(0)).isEqualTo(target.port());
                LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(1));
                assertThat(retry.verdict().kind()).isEqualTo(Verdict.Kind.REDIRECT);
                client.close().block(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void serverDisconnectIsReportedAndReconnected() {
        byte[] disconnect = bytes(0xE0, 0x01, 0x8B);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, disconnect) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.CloseReceived received = events.await(LifecycleEvent.CloseReceived.class, Duration.ofSeconds(10));
            assertThat(received.code()).isEqualTo(0x8B);
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.initiator()).isEqualTo(Initiator.REMOTE_PEER);
            assertThat(d.code()).isEqualTo(0x8B);
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            client.close().block(Duration.ofSeconds(5));
            awaitOpen(broker, 0);
        }
    }

    @Test
    void cancellingTheLastSubscriberUnsubscribes() {
        try (FakeBroker broker = FakeBroker.start(n -> CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            var first = client.subscribe("x/#", MqttQos.AT_LEAST_ONCE).subscribe();
            var second = client.subscribe("x/#", MqttQos.AT_LEAST_ONCE).subscribe();
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            first.dispose();
            // Another filter's SUBSCRIBE after the first cancel proves no UNSUBSCRIBE went out while one subscriber remained.
            client.subscribe("y", MqttQos.AT_MOST_ONCE).subscribe();
            broker.receivedTypes().filter(t -> t == MqttMessageType.SUBSCRIBE).take(2).blockLast(Duration.ofSeconds(5));
            assertThat(broker.received()).noneMatch(m -> m.fixedHeader().messageType() == MqttMessageType.UNSUBSCRIBE);
            second.dispose();
            broker.receivedTypes().filter(t -> t == MqttMessageType.UNSUBSCRIBE).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.UNSUBSCRIBE)
                    .singleElement().satisfies(m -> assertThat(((io.netty.handler.codec.mqtt.MqttUnsubscribeMessage) m)
                            .payload().topics()).containsExactly("x/#"));
            // The UNSUBACK is reported, naming the filter, under a kind that does not end in "subscribed".
            LifecycleEvent.Notice unsuback = (LifecycleEvent.Notice) events.await(e -> e instanceof LifecycleEvent.Notice n
                    && n.kind().equals(MqttClient.Builder.UNSUBSCRIBE_ACKNOWLEDGED_NOTICE), Duration.ofSeconds(5));
            assertThat(String.valueOf(unsuback.details())).contains("x/#");
            assertThat(unsuback.kind()).doesNotEndWith("subscribed");
            // The UNSUBACK matched: the connection is still the first one.
            client.publish(MqttMessage.of("z", "still here", MqttQos.AT_MOST_ONCE)).block(Duration.ofSeconds(5));
            broker.receivedTypes().filter(t -> t == MqttMessageType.PUBLISH).next().block(Duration.ofSeconds(5));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void serverKeepAliveOverridesTheClientsAndAnUnansweredPingIsDetected() {
        // CONNACK with Server Keep Alive = 1 s; the fake broker never answers PINGREQ.
        byte[] connack = bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x01);
        try (FakeBroker broker = FakeBroker.start(n -> connack)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).keepAlive(Duration.ofSeconds(60))
                    .pingTimeout(Duration.ofMillis(300)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            MqttSession session = client.awaitConnected(Duration.ofSeconds(5)).block();
            assertThat(session.keepAlive()).isEqualTo(Duration.ofSeconds(1));
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(5));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).hasMessageContaining("no PINGRESP within 300 ms");
            assertThat(broker.received()).anyMatch(m -> m.fixedHeader().messageType() == MqttMessageType.PINGREQ);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aSecondSubscriberAskingAHigherQosSubscribesAgain() {
        try (FakeBroker broker = FakeBroker.start(n -> CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).build().start();
            client.awaitConnected(Duration.ofSeconds(5)).block();
            client.subscribe("u/#", MqttQos.AT_MOST_ONCE).subscribe();
            client.subscribe("u/#", MqttQos.EXACTLY_ONCE).subscribe();
            broker.receivedTypes().filter(t -> t == MqttMessageType.SUBSCRIBE).take(2).blockLast(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.SUBSCRIBE)
                    .extracting(m -> ((io.netty.handler.codec.mqtt.MqttSubscribeMessage) m).payload().topicSubscriptions()
                            .get(0).qualityOfService().value())
                    .containsExactly(0, 2);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPacketLongerThanItsLengthSaysDoesNotHangTheClient() {
        // CONNACK, then a QoS 1 PUBLISH whose topic length (64) runs past its remaining length (6): Netty's
        // decoder alone would wait for bytes that belong to no packet; the packet framer refuses it at once.
        byte[] lying = bytes(0x32, 0x06, 0x00, 0x40, 'a', '/', 0x00, 0x05);
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? concat(CONNACK_V5_OK, lying) : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).keepAlive(Duration.ofSeconds(1))
                    .pingTimeout(Duration.ofMillis(300)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            assertThat(broker.received()).noneMatch(m -> m.fixedHeader().messageType() == MqttMessageType.PUBACK);
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aPubrelForAPacketIdNeverReceivedIsNotConfirmedAsReceived() {
        // PUBREL for id 42, which no QoS 2 PUBLISH carried: MQTT 5 answers PUBCOMP 0x92 (packet identifier not found).
        byte[] strayPubrel = bytes(0x62, 0x02, 0x00, 0x2A);
        try (FakeBroker broker = FakeBroker.start(n -> concat(CONNACK_V5_OK, strayPubrel))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build().start();
            broker.receivedTypes().filter(t -> t == MqttMessageType.PUBCOMP).next().block(Duration.ofSeconds(10));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.PUBCOMP)
                    .singleElement().satisfies(m -> {
                        var h = (io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader) m.variableHeader();
                        assertThat(h.messageId()).isEqualTo(42);
                        assertThat(h.reasonCode() & 0xFF).isEqualTo(0x92);
                    });
            client.close().block(Duration.ofSeconds(5));
        }
    }
}
