package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.Sockets;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The MQTT scenarios against peers nobody here wrote: Mosquitto as the broker, MQTT.js as an
 * independent observer and publisher, Aedes as a second broker.
 */
@ExtendWith(PeerLogs.class)
class MqttInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String USER = "device";
    private static final String PASSWORD = "right-password";
    private static final ReconnectPolicy FAST = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50))
            .maxDelay(Duration.ofMillis(500)).build();

    private Mosquitto mosquitto;

    @BeforeEach
    void startBroker() {
        PeerLogs.clear();
        mosquitto = Mosquitto.start(USER, PASSWORD);
        PeerLogs.register("mosquitto", mosquitto::log);
    }

    @AfterEach
    void stopBroker() {
        mosquitto.close();
    }

    private NodePeer observer(String topic, String... extra) {
        String[] args = new String[4 + extra.length + 2];
        args[0] = "mqtt://127.0.0.1:" + mosquitto.tcpPort();
        args[1] = topic;
        args[2] = "--username";
        args[3] = USER;
        System.arraycopy(extra, 0, args, 4, extra.length);
        args[4 + extra.length] = "--password";
        args[5 + extra.length] = PASSWORD;
        NodePeer p = NodePeer.start("mqtt-observer.js", args);
        PeerLogs.register("mqtt.js observer", p::output);
        p.await(WAIT, "\"event\":\"ready\"");
        return p;
    }

    private MqttClient.Builder client(String uri, String clientId) {
        return MqttClient.builder().endpoint(uri).clientId(clientId).reconnect(FAST)
                .credentials(CredentialsProvider.fixed(Credentials.of(USER, PASSWORD)));
    }

    private void willScenario(String uri, String mode, boolean willExpected) {
        String topic = "wills/" + mode + "/" + uri.substring(0, 2);
        try (NodePeer obs = observer(topic, "--v5")) {
            MqttClient device = client(uri, "device-" + mode).version(MqttVersion.MQTT_5)
                    .will(MqttWill.of(MqttMessage.of(topic, "gone", MqttQos.AT_LEAST_ONCE))).build().start();
            device.awaitConnected(WAIT).block();
            int port = uri.startsWith("ws") ? mosquitto.wsPort() : mosquitto.tcpPort();
            int before = Sockets.establishedOn(port);
            switch (mode) {
                case "abort" -> device.abort().block(WAIT);
                case "graceful" -> device.close().block(WAIT);
                default -> device.closeWithWill().block(WAIT);
            }
            // One socket fewer to the broker: the kernel agrees the transport is closed.
            dev.tether.core.testing.Await.until(() -> Sockets.establishedOn(port) <= before - 2, WAIT,
                    "the client's socket (both ends) gone from port " + port);
            if (willExpected) {
                String will = obs.await(WAIT, "\"event\":\"message\"", "\"topic\":\"" + topic + "\"");
                assertThat(will).contains("\"payload\":\"gone\"");
            } else {
                // Give the broker the time it needs to publish a Will it should not publish, then check.
                MqttClient probe = client("tcp://127.0.0.1:" + mosquitto.tcpPort(), "probe-" + mode).build().start();
                probe.awaitConnected(WAIT).block();
                probe.publish(MqttMessage.of(topic, "marker", MqttQos.AT_LEAST_ONCE)).block(WAIT);
                obs.await(WAIT, "\"payload\":\"marker\"");
                assertThat(obs.count("\"payload\":\"gone\"")).as("no Will after a graceful disconnect").isZero();
                probe.close().block(WAIT);
            }
        }
    }

    @Test
    void abortOverTcpDeliversTheWillToAnMqttJsSubscriber() {
        willScenario("tcp://127.0.0.1:" + mosquitto.tcpPort(), "abort", true);
    }

    @Test
    void abortOverWebSocketDeliversTheWill() {
        willScenario("ws://127.0.0.1:" + mosquitto.wsPort() + "/mqtt", "abort", true);
    }

    @Test
    void gracefulDisconnectOverWebSocketDoesNotDeliverTheWill() {
        willScenario("ws://127.0.0.1:" + mosquitto.wsPort() + "/mqtt", "graceful", false);
    }

    @Test
    void gracefulDisconnectOverTcpDoesNotDeliverTheWill() {
        willScenario("tcp://127.0.0.1:" + mosquitto.tcpPort(), "graceful", false);
    }

    @Test
    void gracefulWithWillDeliversTheWill() {
        willScenario("tcp://127.0.0.1:" + mosquitto.tcpPort(), "graceful_with_will", true);
    }

    private static CredentialsProvider wrongThenRight() {
        return request -> Mono.just(Credentials.of(USER, request.refresh() ? PASSWORD : "expired-password"));
    }

    private void authRefusalScenario(MqttClient client) {
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(client.lifecycle())) {
            client.start();
            LifecycleEvent.RetryScheduled refused = rec.next(LifecycleEvent.RetryScheduled.class, WAIT);
            assertThat(refused.verdict().kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
            rec.next(LifecycleEvent.CredentialsRefreshed.class, WAIT);
            rec.next(LifecycleEvent.Connected.class, WAIT);
            client.close().block(WAIT);
        }
    }

    @Test
    void authRefusalOnFirstConnectAgainstMosquittoIsRefreshedWithoutUserCode() {
        for (MqttVersion v : MqttVersion.values()) {
            authRefusalScenario(MqttClient.builder().endpoint("tcp://127.0.0.1:" + mosquitto.tcpPort()).clientId("auth-" + v)
                    .version(v).reconnect(FAST).credentials(wrongThenRight()).build());
        }
    }

    @Test
    void authRefusalOnFirstConnectAgainstAedesOverTcpAndWebSocket() {
        try (NodePeer aedes = NodePeer.start("aedes-broker.js", USER, PASSWORD)) {
            PeerLogs.register("aedes", aedes::output);
            String ready = aedes.await(WAIT, "\"event\":\"ready\"");
            int tcp = NodePeer.intField(ready, "tcp");
            int ws = NodePeer.intField(ready, "ws");
            authRefusalScenario(MqttClient.builder().endpoint("tcp://127.0.0.1:" + tcp).clientId("aedes-tcp")
                    .version(MqttVersion.MQTT_3_1_1).reconnect(FAST).credentials(wrongThenRight()).build());
            authRefusalScenario(MqttClient.builder().endpoint("ws://127.0.0.1:" + ws + "/mqtt").clientId("aedes-ws")
                    .version(MqttVersion.MQTT_3_1_1).reconnect(FAST).credentials(wrongThenRight()).build());
            assertThat(aedes.count("\"event\":\"auth\"", "\"ok\":false")).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void mosquittoRestartedEveryQos1MessageFromMqttJsArrives() throws IOException {
        String topic = "telemetry/restart";
        MqttClient subscriber = client("tcp://127.0.0.1:" + mosquitto.tcpPort(), "restart-subscriber")
                .version(MqttVersion.MQTT_5).cleanStart(false).sessionExpiry(Duration.ofMinutes(5)).build();
        Set<String> received = ConcurrentHashMap.newKeySet();
        Disposable sub = subscriber.subscribe(topic, MqttQos.AT_LEAST_ONCE).subscribe(m -> received.add(m.payloadAsString()));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(subscriber.lifecycle())) {
            subscriber.start();
            rec.next(e -> e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed"), WAIT, "SUBACK");
            int count = 60;
            try (NodePeer publisher = NodePeer.start("mqtt-publisher.js", "mqtt://127.0.0.1:" + mosquitto.tcpPort(), topic,
                    String.valueOf(count), "50", "m", "--username", USER, "--password", PASSWORD)) {
                PeerLogs.register("mqtt.js publisher", publisher::output);
                publisher.await(WAIT, "\"event\":\"acked\"", "\"n\":10");
                mosquitto.stop();
                rec.next(LifecycleEvent.Disconnected.class, WAIT);
                mosquitto.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);
                publisher.await(Duration.ofSeconds(40), "\"event\":\"done\"");
            }
            dev.tether.core.testing.Await.until(() -> received.size() == count, WAIT,
                    "all " + count + " acknowledged messages at the Tether subscriber; got " + received.size());
        } finally {
            sub.dispose();
            subscriber.close().block(WAIT);
        }
    }

    @Test
    void faultsThroughAProxyToMosquitto() {
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", mosquitto.tcpPort())) {
            MqttClient c = client("tcp://127.0.0.1:" + proxy.port(), "faulty").keepAlive(Duration.ofSeconds(1))
                    .pingTimeout(Duration.ofSeconds(1)).build();
            try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
                c.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);
                // A reset: detected at once, reconnected.
                proxy.cutAll();
                assertThat(rec.next(LifecycleEvent.Disconnected.class, WAIT).initiator()).isEqualTo(dev.tether.core.Initiator.REMOTE_PEER);
                rec.next(LifecycleEvent.Connected.class, WAIT);
                // A blackhole (half-open): only keepalive can tell; it does.
                proxy.blackhole(true);
                LifecycleEvent.Disconnected dead = rec.next(LifecycleEvent.Disconnected.class, WAIT);
                assertThat(dead.initiator()).isEqualTo(dev.tether.core.Initiator.LOCAL_DETECTION);
                proxy.blackhole(false);
                rec.next(LifecycleEvent.Connected.class, WAIT);
                // Latency: the session still works, slowly.
                proxy.latency(Duration.ofMillis(200));
                c.publish(MqttMessage.of("slow/topic", "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
                c.close().block(WAIT);
            }
        }
    }
}
