package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionState;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.Sockets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code close()} while CONNECT is in flight keeps its promise: the broker already holds the Will once it read
 * CONNECT, so the client waits for CONNACK and sends DISCONNECT 0x00 instead of aborting the socket. A Will
 * observer on HiveMQ CE proves the broker discarded the Will; the kernel proves the socket is closed.
 */
class CloseDuringConnectIT {

    static HiveMqBroker hivemq;

    @BeforeAll
    static void start() {
        hivemq = HiveMqBroker.start();
    }

    @AfterAll
    static void stop() {
        hivemq.close();
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"tcp", "ws"})
    void gracefulCloseWhileConnectIsInFlightWaitsForConnackAndSaysDisconnect(String transport) throws Exception {
        boolean ws = transport.equals("ws");
        String willTopic = "will/close-during-connect/" + transport;
        MqttClient observer = MqttClient.builder().endpoint(ws ? hivemq.tcpUri() : hivemq.wsUri())
                .clientId("observer-cdc-" + transport).build().start();
        Recorder<LifecycleEvent> observerEvents = Recorder.lifecycle(observer.lifecycle());
        LinkedBlockingQueue<MqttMessage> wills = new LinkedBlockingQueue<>();
        var subscription = observer.subscribe(willTopic, MqttQos.AT_LEAST_ONCE).subscribe(wills::add);
        observerEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));

        int target = ws ? java.net.URI.create(hivemq.wsUri()).getPort() : hivemq.tcpPort();
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", target)) {
            // Every chunk takes 1 s through the proxy: CONNECT reaches the broker, its CONNACK is a second away.
            proxy.latency(Duration.ofSeconds(1));
            String id = "slow-connect-" + transport;
            String uri = ws ? "ws://127.0.0.1:" + proxy.port() + "/mqtt" : "tcp://127.0.0.1:" + proxy.port();
            MqttClient client = MqttClient.builder().endpoint(uri).clientId(id)
                    .will(MqttWill.of(MqttMessage.of(willTopic, "gone", MqttQos.AT_LEAST_ONCE)))
                    .build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            Await.until(() -> hivemq.connectsFrom(id) == 1, Duration.ofSeconds(10), "the broker read CONNECT");
            // From now on the proxy forwards at once, so the DISCONNECT is not overtaken by the FIN behind it;
            // the CONNACK already on its way still takes the rest of its second.
            proxy.latency(Duration.ZERO);
            assertThat(client.connection().state()).isEqualTo(ConnectionState.CONNECTING);

            long t0 = System.nanoTime();
            client.close().block(Duration.ofSeconds(15));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(client.connection().state()).isEqualTo(ConnectionState.CLOSED);
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.CloseSent.class,
                    cs -> assertThat(cs.code()).isZero()));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected)
                    .noneMatch(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("close-aborted"));
            assertThat(took).as("close() waited for the CONNACK, not for a timeout").isLessThan(Duration.ofSeconds(5));
            // The kernel: nothing ESTABLISHED on the proxy's port (the client's side and the proxy's).
            assertThat(Sockets.awaitNoneEstablished(proxy.port(), Duration.ofSeconds(5)))
                    .as("ESTABLISHED sockets on %s: %s", proxy.port(), Sockets.describe(proxy.port())).isTrue();
            // The peer: the broker discarded the Will after DISCONNECT 0x00.
            assertThat(wills.poll(1500, TimeUnit.MILLISECONDS)).as("no Will after close() during CONNECT").isNull();
        } finally {
            subscription.dispose();
            observer.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void withoutConnackInTimeTheCloseAbortsAtTheConnackTimeoutAndSaysSo() {
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", hivemq.tcpPort())) {
            // CONNECT reaches the broker after 2 s, its CONNACK would reach the client after 4 s: past the 3 s timeout.
            proxy.latency(Duration.ofSeconds(2));
            String id = "late-connack";
            MqttClient client = MqttClient.builder().endpoint("tcp://127.0.0.1:" + proxy.port()).clientId(id)
                    .connackTimeout(Duration.ofSeconds(3)).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            Await.until(() -> hivemq.connectsFrom(id) == 1, Duration.ofSeconds(10), "the broker read CONNECT");
            client.close().block(Duration.ofSeconds(15));
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.Notice.class,
                    n -> assertThat(n.kind()).isEqualTo("close-aborted")));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.CloseSent)
                    .noneMatch(e -> e instanceof LifecycleEvent.Connected);
            assertThat(Sockets.awaitNoneEstablished(proxy.port(), Duration.ofSeconds(5)))
                    .as("ESTABLISHED sockets on %s: %s", proxy.port(), Sockets.describe(proxy.port())).isTrue();
        }
    }
}
