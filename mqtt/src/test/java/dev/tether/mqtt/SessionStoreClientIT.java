package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.mqtt.test.Ports;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client with a durable session store, against HiveMQ CE. */
class SessionStoreClientIT {

    private static HiveMqBroker broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() {
        broker = HiveMqBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    private static MqttClient.Builder client(String uri, String clientId, Path store) {
        return MqttClient.builder().endpoint(uri).clientId(clientId).cleanStart(false).sessionExpiry(Duration.ofMinutes(5))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .sessionStore(MqttSessionStore.file(store));
    }

    @Test
    void publishesBufferedOfflineAreSentByTheNextRunOnTheSameStore() {
        Path store = dir.resolve("offline.mv");
        MqttClient offline = client("tcp://127.0.0.1:" + Ports.free(), "store-offline", store).build().start();
        for (int i = 0; i < 10; i++) {
            offline.publish(MqttMessage.of("store/offline", "m" + i, i % 2 == 0 ? MqttQos.AT_LEAST_ONCE
                    : MqttQos.EXACTLY_ONCE)).subscribe(r -> { }, e -> { });
        }
        offline.abort().block(Duration.ofSeconds(10));

        MqttClient sub = MqttClient.builder().endpoint(broker.tcpUri()).clientId("store-offline-sub").build().start();
        Recorder<LifecycleEvent> subEvents = Recorder.lifecycle(sub.lifecycle());
        try (Recorder<MqttMessage> received = Recorder.of(sub.subscribe("store/offline", MqttQos.EXACTLY_ONCE))) {
            subEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            MqttClient next = client(broker.tcpUri(), "store-offline", store).build().start();
            try {
                received.awaitCount(10, m -> true, Duration.ofSeconds(20));
                assertThat(received.items()).extracting(MqttMessage::payloadAsString)
                        .containsExactly("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
                next.close().block(Duration.ofSeconds(10));
            } finally {
                next.abort().block(Duration.ofSeconds(10));
            }
            try (MqttSessionStore s = MqttSessionStore.file(store)) {
                assertThat(s.open("store-offline")).as("acknowledged publishes are removed from the store").isEmpty();
            }
        } finally {
            sub.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void startRefusesAStoreOfAnotherClientIdOrOneInUse() {
        Path store = dir.resolve("owned.mv");
        MqttClient owner = client(broker.tcpUri(), "store-owner", store).build().start();
        try {
            assertThatThrownBy(() -> client(broker.tcpUri(), "store-owner", store).build().start())
                    .isInstanceOf(MqttSessionStoreException.class).hasMessageContaining(store.toString())
                    .hasMessageContaining("locked");
        } finally {
            owner.close().block(Duration.ofSeconds(10));
        }
        assertThatThrownBy(() -> client(broker.tcpUri(), "someone-else", store).build().start())
                .isInstanceOf(MqttSessionStoreException.class).hasMessageContaining(store.toString())
                .hasMessageContaining("'store-owner'");
    }

    @Test
    void builderRefusesAStoreWithoutAFixedClientId() {
        assertThatThrownBy(() -> MqttClient.builder().endpoint(broker.tcpUri()).clientId("")
                .sessionStore(MqttSessionStore.file(dir.resolve("x.mv"))).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clientId");
    }
}
