package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static dev.tether.mqtt.test.FakeBroker.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.FatalConnectionException;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.RetriesExhaustedException;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import dev.tether.mqtt.test.HiveMqBroker;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Protocol version negotiation against real sockets: a broker that answers an MQTT 5 CONNECT with an MQTT 3.1.1
 * CONNACK, with 0x84, or by closing the connection; the fallback, the memory per endpoint, the pinned version.
 */
class VersionNegotiationIT {

    /** MQTT 3.1.1 CONNACK, return code 1: unacceptable protocol version. */
    static final byte[] CONNACK_311_BAD_VERSION = bytes(0x20, 0x02, 0x00, 0x01);
    static final byte[] CONNACK_311_OK = bytes(0x20, 0x02, 0x00, 0x00);
    static final byte[] CONNACK_V5_OK = bytes(0x20, 0x03, 0x00, 0x00, 0x00);
    static final byte[] CONNACK_V5_UNSUPPORTED = bytes(0x20, 0x03, 0x00, 0x84, 0x00);
    /** A PUBACK nothing was published for: a protocol error that makes the client reconnect. */
    static final byte[] STRAY_PUBACK = bytes(0x40, 0x02, 0x00, 0x07);
    static final Duration WAIT = Duration.ofSeconds(10);

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build();
    }

    /** @return the protocol level of every CONNECT the broker received, in order (4 = 3.1.1, 5 = MQTT 5) */
    static List<Integer> connectVersions(FakeBroker broker) {
        return broker.received().stream().filter(m -> m.fixedHeader().messageType() == MqttMessageType.CONNECT)
                .map(m -> ((MqttConnectMessage) m).variableHeader().version()).toList();
    }

    static List<LifecycleEvent.Notice> fallbacks(Recorder<LifecycleEvent> events) {
        return events.items().stream().filter(e -> e instanceof LifecycleEvent.Notice n
                && n.kind().equals(MqttClient.Builder.VERSION_FALLBACK_NOTICE)).map(e -> (LifecycleEvent.Notice) e).toList();
    }

    @Test
    void aThreeOneOneConnackToMqtt5FallsBackAtOnceAndIsRemembered() {
        // 1: MQTT 5 CONNECT refused in 3.1.1 format; 2: 3.1.1 accepted, then a protocol error forces a reconnect;
        // 3: the reconnect must speak 3.1.1 at once.
        try (FakeBroker broker = FakeBroker.start(n -> switch (n) {
            case 1 -> CONNACK_311_BAD_VERSION;
            case 2 -> concat(CONNACK_311_OK, STRAY_PUBACK);
            default -> CONNACK_311_OK;
        })) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Connected first = events.await(LifecycleEvent.Connected.class, WAIT);
            assertThat(((MqttSession) first.details()).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            // No backoff and no failure: one Connecting, no RetryScheduled before the session.
            List<LifecycleEvent> before = events.items().subList(0, events.items().indexOf(first));
            assertThat(before).filteredOn(e -> e instanceof LifecycleEvent.RetryScheduled).isEmpty();
            assertThat(before).filteredOn(e -> e instanceof LifecycleEvent.Connecting).hasSize(1);
            assertThat(fallbacks(events)).singleElement().satisfies(n -> assertThat(n.details().toString())
                    .contains("MQTT 3.1.1 format", "return code 1 unacceptable protocol version", "20 02 00 01",
                            "remembered for this endpoint"));
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, WAIT);
            assertThat(connectVersions(broker)).containsExactly(5, 4, 4);
            assertThat(fallbacks(events)).hasSize(1);
            assertThat(client.awaitConnected(WAIT).block(WAIT).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            client.close().block(WAIT);
        }
    }

    @Test
    void mqtt5ReasonCode0x84FallsBack() {
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? CONNACK_V5_UNSUPPORTED : CONNACK_311_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            assertThat(client.awaitConnected(WAIT).block(WAIT).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            assertThat(fallbacks(events)).singleElement().satisfies(n -> assertThat(n.details().toString())
                    .contains("0x84 unsupported protocol version"));
            assertThat(connectVersions(broker)).containsExactly(5, 4);
            client.close().block(WAIT);
        }
    }

    @Test
    void aCloseRightAfterMqtt5ConnectTriesThreeOneOneAtOnce() {
        try (FakeBroker broker = FakeBroker.start(n -> n == 1 ? FakeBroker.CLOSE : CONNACK_311_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            assertThat(client.awaitConnected(WAIT).block(WAIT).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.RetryScheduled).isEmpty();
            assertThat(fallbacks(events)).singleElement().satisfies(n -> assertThat(n.details().toString())
                    .contains("closed the connection after the MQTT 5 CONNECT without a CONNACK"));
            assertThat(connectVersions(broker)).containsExactly(5, 4);
            client.close().block(WAIT);
        }
    }

    @Test
    void aBrokerThatClosesEveryVersionWasNotRefusingTheVersion() {
        // 1 and 2 closed (MQTT 5, then 3.1.1): a normal failure, retried; 3 speaks MQTT 5 again and is accepted.
        try (FakeBroker broker = FakeBroker.start(n -> n <= 2 ? FakeBroker.CLOSE : CONNACK_V5_OK)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, WAIT);
            assertThat(retry.cause()).hasMessageContaining("again after an MQTT 3.1.1 CONNECT, so the version was not the reason");
            assertThat(retry.verdict()).isEqualTo(Verdict.retry());
            assertThat(client.awaitConnected(WAIT).block(WAIT).version()).isEqualTo(MqttVersion.MQTT_5);
            assertThat(connectVersions(broker)).containsExactly(5, 4, 5);
            client.close().block(WAIT);
        }
    }

    @Test
    void aPinnedVersionRefusedIsFatalAtOnceAndSaysWhatToChange() {
        try (FakeBroker broker = FakeBroker.start(n -> CONNACK_311_BAD_VERSION)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast())
                    .version(MqttVersion.MQTT_5).versionFallback(false).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, WAIT);
            assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class)
                    .hasMessageContaining("return code 1 unacceptable protocol version")
                    .hasMessageContaining("it does not speak MQTT 5")
                    .hasMessageContaining("versionFallback(true)");
            assertThat(broker.accepted()).isEqualTo(1);
            assertThat(fallbacks(events)).isEmpty();
        }
    }

    @Test
    void aPinnedVersionClosedBeforeConnackIsRetriedAFewTimesOnly() {
        try (FakeBroker broker = FakeBroker.start(n -> FakeBroker.CLOSE)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).versionFallback(false).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(20));
            assertThat(closed.cause()).isInstanceOf(RetriesExhaustedException.class)
                    .hasMessageContaining("versionFallback(true)");
            assertThat(broker.accepted()).isEqualTo(MqttVerdicts.UNSPECIFIED_MAX_CONSECUTIVE + 1);
            assertThat(connectVersions(broker)).containsOnly(5);
        }
    }

    @Test
    void aPinnedVersionClosedBeforeConnackByTwoEndpointsIsStillCapped() {
        // Failover alternates the endpoints: the cap must count across them.
        try (FakeBroker a = FakeBroker.start(n -> FakeBroker.CLOSE); FakeBroker b = FakeBroker.start(n -> FakeBroker.CLOSE)) {
            MqttClient client = MqttClient.builder().endpoint(a.tcpUri()).endpoint(b.tcpUri()).reconnect(fast())
                    .versionFallback(false).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            events.awaitCount(3, e -> e instanceof LifecycleEvent.RetryScheduled, WAIT);
            // One verdict for both endpoints, so the engine counts them as the same failure in a row.
            assertThat(events.items().stream().filter(e -> e instanceof LifecycleEvent.RetryScheduled).limit(3)
                    .map(e -> ((LifecycleEvent.RetryScheduled) e).verdict()).distinct().toList()).hasSize(1);
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(20));
            assertThat(closed.cause()).isInstanceOf(RetriesExhaustedException.class);
            assertThat(a.accepted() + b.accepted()).isEqualTo(MqttVerdicts.UNSPECIFIED_MAX_CONSECUTIVE + 1);
            assertThat(a.accepted()).isPositive();
            assertThat(b.accepted()).isPositive();
        }
    }

    @Test
    void anAuthenticationMethodClientDoesNotFallBack() {
        try (FakeBroker broker = FakeBroker.start(n -> CONNACK_311_BAD_VERSION)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast())
                    .authenticationMethod("TOKEN").build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, WAIT);
            assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class)
                    .hasMessageContaining("authenticationMethod(\"TOKEN\") needs MQTT 5");
            assertThat(broker.accepted()).isEqualTo(1);
            assertThat(fallbacks(events)).isEmpty();
        }
    }

    @Test
    void garbageBeforeConnackIsCappedAndSaysWhatArrived() {
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x20, 0x05, 0x00, 0x00, 0x09, 0x01, 0x02))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, WAIT);
            assertThat(retry.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("the broker's first bytes: 20 05 00 00 09 01 02")
                    .hasMessageContaining("expected a CONNACK");
            assertThat(retry.verdict()).isEqualTo(MqttVerdicts.BEFORE_CONNACK_PROTOCOL_ERROR);
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(20));
            assertThat(closed.cause()).isInstanceOf(RetriesExhaustedException.class);
            assertThat(broker.accepted()).isEqualTo(MqttVerdicts.BEFORE_CONNACK_PROTOCOL_ERROR_MAX_CONSECUTIVE + 1);
        }
    }

    @Test
    void aThreeOneOneClientReadsTheTwoByteConnackAsBefore() {
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x20, 0x02, 0x01, 0x00))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).version(MqttVersion.MQTT_3_1_1)
                    .clientId("c1").cleanStart(false).build();
            client.start();
            MqttSession session = client.awaitConnected(WAIT).block(WAIT);
            assertThat(session.version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            assertThat(session.sessionPresent()).isTrue();
            client.close().block(WAIT);
        }
    }

    @Test
    void anMqtt5BrokerIsSpokenToInMqtt5WithoutNotice() {
        try (HiveMqBroker broker = HiveMqBroker.start()) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            assertThat(client.awaitConnected(Duration.ofSeconds(20)).block(Duration.ofSeconds(20)).version())
                    .isEqualTo(MqttVersion.MQTT_5);
            assertThat(fallbacks(events)).isEmpty();
            client.close().block(WAIT);
        }
    }

    @Test
    void theBuilderRefusesContradictoryVersionSettings() {
        assertThatThrownBy(() -> MqttClient.builder().endpoint("tcp://127.0.0.1:1883").version(MqttVersion.MQTT_3_1_1)
                .versionFallback(true).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("versionFallback(true) needs version(MQTT_5)");
        assertThatThrownBy(() -> MqttClient.builder().endpoint("tcp://127.0.0.1:1883").authenticationMethod("X")
                .versionFallback(true).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be combined with authenticationMethod");
        // Defaults and the pinned forms build.
        MqttClient.builder().endpoint("tcp://127.0.0.1:1883").build();
        MqttClient.builder().endpoint("tcp://127.0.0.1:1883").versionFallback(false).build();
        MqttClient.builder().endpoint("tcp://127.0.0.1:1883").version(MqttVersion.MQTT_3_1_1).build();
        MqttClient.builder().endpoint("tcp://127.0.0.1:1883").authenticationMethod("X").build();
        assertThat(MqttClient.Builder.DEFAULT_VERSION_FALLBACK).isTrue();
    }
}
