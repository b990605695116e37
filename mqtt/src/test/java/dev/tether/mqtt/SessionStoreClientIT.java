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
                MqttSessionStore.Contents left = s.open(MqttSessionStore.SessionSettings.of("store-offline"));
                assertThat(left.inFlight()).as("acknowledged publishes are removed from the store").isEmpty();
                assertThat(left.waiting()).as("acknowledged publishes are removed from the store").isZero();
            }
        } finally {
            sub.close().block(Duration.ofSeconds(10));
        }
    }

    private static LifecycleEvent.Notice notice(Recorder<LifecycleEvent> events, String kind) {
        return (LifecycleEvent.Notice) events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals(kind),
                Duration.ofSeconds(20));
    }

    private static void publishAcknowledged(String topic, int count) {
        MqttClient publisher = MqttClient.builder().endpoint(broker.tcpUri()).clientId("store-pub-" + System.nanoTime())
                .build().start();
        try {
            for (int i = 0; i < count; i++) {
                publisher.publish(MqttMessage.of(topic + "/" + i, "m" + i, MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            }
        } finally {
            publisher.close().block(Duration.ofSeconds(10));
        }
    }

    private static void awaitHeld(MqttClient client, int held) {
        Integer seen = reactor.core.publisher.Flux.interval(Duration.ofMillis(20)).map(i -> client.inboundState().held())
                .filter(h -> h >= held).take(Duration.ofSeconds(20)).blockLast(Duration.ofSeconds(30));
        assertThat(seen).as("held messages; inbound state " + client.inboundState()).isNotNull();
    }

    @Test
    void aRestartTakesBackTheSubscriptionsAndHoldsTheirMessagesUntilTheApplicationSubscribes() {
        Path store = dir.resolve("subs.mv");
        MqttClient first = client(broker.tcpUri(), "store-subs", store).build().start();
        Recorder<LifecycleEvent> firstEvents = Recorder.lifecycle(first.lifecycle());
        Recorder<MqttMessage> before = Recorder.of(first.subscribe(MqttSubscription.builder("subs/#")
                .qos(MqttQos.AT_LEAST_ONCE).build()));
        notice(firstEvents, "subscribed");
        first.abort().block(Duration.ofSeconds(10)); // like a crash: nothing unsubscribed
        before.close();

        publishAcknowledged("subs", 5); // queued by the broker for the offline session

        // The lifecycle is recorded before start(): the store's notices come with the first connection.
        MqttClient next = client(broker.tcpUri(), "store-subs", store).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(next.lifecycle());
        next.start();
        try {
            assertThat(notice(events, "subscriptions-restored").details().toString()).contains("[subs/#]");
            // How many the broker sends before the first acknowledgement is its choice (up to the Receive Maximum).
            awaitHeld(next, 1);
            MqttInboundState state = next.inboundState();
            assertThat(state.unacknowledged()).as("held, not acknowledged: " + state).isGreaterThanOrEqualTo(state.held());
            try (Recorder<MqttMessage> received = Recorder.of(next.subscribe("subs/#", MqttQos.AT_LEAST_ONCE))) {
                received.awaitCount(5, m -> true, Duration.ofSeconds(20));
                publishAcknowledged("subs/live", 1);
                received.awaitCount(6, m -> true, Duration.ofSeconds(20));
                assertThat(received.items()).extracting(MqttMessage::payloadAsString)
                        .containsExactly("m0", "m1", "m2", "m3", "m4", "m0");
                assertThat(events.items()).as("the broker kept the session: nothing subscribed again")
                        .noneMatch(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resubscribed"));
            }
        } finally {
            next.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void aRestoredSubscriptionIsSentAgainWhenTheBrokerKeptNoSession() {
        Path store = dir.resolve("resub.mv");
        MqttClient first = client(broker.tcpUri(), "store-resub", store).build().start();
        Recorder<LifecycleEvent> firstEvents = Recorder.lifecycle(first.lifecycle());
        Recorder<MqttMessage> before = Recorder.of(first.subscribe(MqttSubscription.builder("resub/#")
                .qos(MqttQos.EXACTLY_ONCE).build()));
        notice(firstEvents, "subscribed");
        first.abort().block(Duration.ofSeconds(10));
        before.close();

        // Clean start: the broker drops the session it kept.
        MqttClient next = client(broker.tcpUri(), "store-resub", store).cleanStart(true).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(next.lifecycle());
        next.start();
        try {
            assertThat(notice(events, "session-store-settings").details().toString()).contains("cleanStart(false)")
                    .contains(store.toString());
            assertThat(notice(events, "resubscribed").details().toString()).contains("resub/# -> granted QoS 2");
            publishAcknowledged("resub", 3);
            awaitHeld(next, 1);
            try (Recorder<MqttMessage> received = Recorder.of(next.subscribe("resub/#", MqttQos.EXACTLY_ONCE))) {
                received.awaitCount(3, m -> true, Duration.ofSeconds(20));
                assertThat(received.items()).extracting(MqttMessage::payloadAsString).containsExactly("m0", "m1", "m2");
            } // its last subscriber left: unsubscribed, and gone from the store
        } finally {
            next.close().block(Duration.ofSeconds(10));
        }
        try (MqttSessionStore s = MqttSessionStore.file(store)) {
            assertThat(s.open(MqttSessionStore.SessionSettings.of("store-resub")).subscriptions()).isEmpty();
        }
    }

    @Test
    void publishesInFlightInAnEarlierRunAreSentAsNewPublishesWhenTheBrokerKeptNoSessionAndLifecycleSaysSo() {
        Path store = dir.resolve("republish.mv");
        try (MqttSessionStore s = MqttSessionStore.file(store)) {
            s.open(MqttSessionStore.SessionSettings.of("store-republish"));
            long a = s.add(MqttMessage.of("republish/a", "a", MqttQos.AT_LEAST_ONCE));
            long b = s.add(MqttMessage.of("republish/b", "b", MqttQos.EXACTLY_ONCE));
            s.sent(a, 17, MqttQos.AT_LEAST_ONCE);
            s.sent(b, 18, MqttQos.EXACTLY_ONCE);
            s.add(MqttMessage.of("republish/c", "c", MqttQos.AT_LEAST_ONCE));
        }
        MqttClient sub = MqttClient.builder().endpoint(broker.tcpUri()).clientId("store-republish-sub").build().start();
        Recorder<LifecycleEvent> subEvents = Recorder.lifecycle(sub.lifecycle());
        try (Recorder<MqttMessage> received = Recorder.of(sub.subscribe("republish/#", MqttQos.EXACTLY_ONCE))) {
            notice(subEvents, "subscribed");
            // The broker never saw this client id: no session, so ids 17 and 18 mean nothing to it.
            MqttClient next = client(broker.tcpUri(), "store-republish", store).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(next.lifecycle());
            next.start();
            try {
                assertThat(notice(events, "republished").details().toString())
                        .startsWith("2 publishes in flight sent again as new publishes");
                received.awaitCount(3, m -> true, Duration.ofSeconds(20));
                assertThat(received.items()).extracting(MqttMessage::payloadAsString).containsExactly("a", "b", "c");
                assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resent"));
            } finally {
                next.close().block(Duration.ofSeconds(10));
            }
        } finally {
            sub.close().block(Duration.ofSeconds(10));
        }
        try (MqttSessionStore s = MqttSessionStore.file(store)) {
            MqttSessionStore.Contents left = s.open(MqttSessionStore.SessionSettings.of("store-republish"));
            assertThat(left.inFlight()).isEmpty();
            assertThat(left.waiting()).isZero();
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
                .hasMessageContaining("'store-owner'").hasMessageContaining("'someone-else'");
    }

    @Test
    void builderRefusesAStoreWithoutAFixedClientId() {
        assertThatThrownBy(() -> MqttClient.builder().endpoint(broker.tcpUri()).clientId("")
                .sessionStore(MqttSessionStore.file(dir.resolve("x.mv"))).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clientId");
    }
}
