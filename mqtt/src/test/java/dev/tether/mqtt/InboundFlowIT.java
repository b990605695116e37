package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.mqtt.test.MoquetteBroker;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The way in, against real brokers: acknowledgements follow the application's demand, a killed subscriber
 * loses at most what its own pipeline held, unmatched messages wait for their subscriber, shared
 * subscriptions split the flow, retained messages reach each subscriber once.
 */
class InboundFlowIT {

    static final Duration WAIT = Duration.ofSeconds(20);
    static HiveMqBroker hivemq;

    @BeforeAll
    static void start() {
        hivemq = HiveMqBroker.start();
    }

    @AfterAll
    static void stop() {
        hivemq.close();
    }

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build();
    }

    static MqttClient publisher(String uri, MqttVersion version) {
        MqttClient pub = MqttClient.builder().endpoint(uri).version(version).reconnect(fast()).build().start();
        pub.awaitConnected(WAIT).block();
        return pub;
    }

    static void publishAll(MqttClient pub, String topicPrefix, int count, MqttQos qos) {
        pub.publishAll(Flux.range(0, count).map(i -> MqttMessage.of(topicPrefix + "/" + i, Integer.toString(i), qos)))
                .then().block(WAIT);
    }

    /** A round trip through the subscriber's own connection: acknowledgements queued before it have left. */
    static void barrier(MqttClient client) {
        client.publish(MqttMessage.of("barrier/" + System.nanoTime(), "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
    }

    /** @return a client builder whose session HiveMQ keeps for 5 minutes after the client leaves */
    static MqttClient.Builder persistentSession(String clientId) {
        return MqttClient.builder().endpoint(hivemq.tcpUri()).clientId(clientId).cleanStart(false)
                .sessionExpiry(Duration.ofMinutes(5)).reconnect(fast());
    }

    /**
     * Connects, subscribes at QoS 1 and leaves without unsubscribing at the broker (abort): the session keeps the
     * subscription, and messages published meanwhile wait in it.
     */
    static void subscribeThenLeave(MqttClient.Builder b, String filter) {
        MqttClient once = b.build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(once.lifecycle());
        once.start();
        Disposable s = once.subscribe(filter, MqttQos.AT_LEAST_ONCE).subscribe();
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        once.abort().block(WAIT);
        s.dispose();
    }

    /** Requests only what the test asks for. */
    static final class Manual<T> extends BaseSubscriber<T> {
        final List<T> received = new CopyOnWriteArrayList<>();

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            // no demand until the test asks
        }

        @Override
        protected void hookOnNext(T value) {
            received.add(value);
        }
    }

    @Test
    void aQos1MessageIsAcknowledgedOnlyOnceTheSubscriberAskedForIt() {
        String id = "demand-" + System.nanoTime();
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).clientId(id).receiveMaximum(10).reconnect(fast())
                .build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe("demand/#", MqttQos.AT_LEAST_ONCE).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            publishAll(pub, "demand", 100, MqttQos.AT_LEAST_ONCE);
            barrier(sub);
            assertThat(hivemq.pubacksFrom(id)).as("PUBACKs before any demand").isZero();

            app.request(5);
            Await.until(() -> app.received.size() == 5, WAIT, "5 messages emitted");
            Await.until(() -> hivemq.pubacksFrom(id) == 5, WAIT, "5 PUBACKs at the broker");
            barrier(sub);
            assertThat(hivemq.pubacksFrom(id)).as("PUBACKs after demand for 5").isEqualTo(5);

            app.request(95);
            Await.until(() -> app.received.size() == 100, WAIT, "all 100 messages");
            Await.until(() -> hivemq.pubacksFrom(id) == 100, WAIT, "100 PUBACKs");
            assertThat(app.received.stream().map(MqttMessage::payloadAsString).toList())
                    .containsExactlyElementsOf(IntStream.range(0, 100).mapToObj(Integer::toString).toList());
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void qos2IsAcknowledgedWithPubrecOnlyAfterEmission() {
        String id = "demand2-" + System.nanoTime();
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).clientId(id).receiveMaximum(4).reconnect(fast())
                .build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe("demand2/#", MqttQos.EXACTLY_ONCE).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            publishAll(pub, "demand2", 20, MqttQos.EXACTLY_ONCE);
            barrier(sub);
            assertThat(hivemq.pubrecsFrom(id)).isZero();
            app.request(3);
            Await.until(() -> hivemq.pubrecsFrom(id) == 3, WAIT, "3 PUBRECs");
            barrier(sub);
            assertThat(hivemq.pubrecsFrom(id)).isEqualTo(3);
            app.request(Long.MAX_VALUE);
            Await.until(() -> app.received.size() == 20, WAIT, "all 20");
            assertThat(app.received.stream().map(MqttMessage::payloadAsString).distinct().count()).isEqualTo(20);
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    /**
     * The three messages wait in the session while the subscriber is away, so the broker sends them in one go
     * when it comes back. Online, HiveMQ CE would not: it polls a client's queue only while nothing it sent is
     * in flight, so a message arriving after an unacknowledged one waits for that one's PUBACK, and a test
     * that withholds every acknowledgement until all three arrived would wait for ever.
     */
    @Test
    void manualAcknowledgementHoldsThePubackUntilTheApplicationSaysSo() {
        String id = "manual-" + System.nanoTime();
        String topic = "manual" + System.nanoTime();
        MqttClient.Builder b = persistentSession(id);
        subscribeThenLeave(b, topic + "/#");
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        MqttClient sub = b.build();
        Recorder<MqttDelivery> deliveries = null;
        try {
            publishAll(pub, topic, 3, MqttQos.AT_LEAST_ONCE);
            sub.start();
            sub.awaitConnected(WAIT).block();
            deliveries = Recorder.of(sub.subscribeWithAcknowledgement(
                    MqttSubscription.of(topic + "/#", MqttQos.AT_LEAST_ONCE)));
            deliveries.awaitCount(3, d -> true, WAIT);
            assertThat(deliveries.items().stream().map(d -> d.message().payloadAsString()).toList())
                    .containsExactly("0", "1", "2");
            barrier(sub);
            assertThat(hivemq.pubacksFrom(id)).isZero();
            // The second is acknowledged first: it waits for the first (acknowledgements leave in order).
            deliveries.items().get(1).acknowledge();
            barrier(sub);
            assertThat(hivemq.pubacksFrom(id)).isZero();
            deliveries.items().get(0).acknowledge();
            Await.until(() -> hivemq.pubacksFrom(id) == 2, WAIT, "2 PUBACKs");
            deliveries.items().get(2).acknowledge();
            Await.until(() -> hivemq.pubacksFrom(id) == 3, WAIT, "3 PUBACKs");
            assertThat(deliveries.items()).allMatch(MqttDelivery::isAcknowledged);
        } finally {
            if (deliveries != null) {
                deliveries.close();
            }
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    /**
     * The field report: a persistent-session subscriber doing work per message is killed mid-stream and
     * restarted with the same client id. Every message is processed by one of the two, except at most what
     * the first one's own pipeline held (emitted to it, not yet processed) when it died.
     */
    @Test
    void anAbortedSubscriberLosesAtMostWhatItsOwnPipelineHeld() {
        abortMidStream(hivemq.tcpUri(), MqttVersion.MQTT_5, false);
    }

    @Test
    void anAbortedSubscriberLosesAtMostWhatItsOwnPipelineHeldOverWebSocket() {
        abortMidStream(hivemq.wsUri(), MqttVersion.MQTT_5, false);
    }

    @Test
    void anAbortedManualSubscriberLosesNothingItDidNotAcknowledge() {
        abortMidStream(hivemq.tcpUri(), MqttVersion.MQTT_5, true);
    }

    /**
     * MQTT 3.1.1 against HiveMQ CE. Moquette 0.18 is not used here: it does not send the messages that were in
     * flight (sent, never acknowledged) again when the session resumes, so it loses them whatever the client does.
     */
    @Test
    void anAbortedSubscriberOnMqtt311LosesAtMostWhatItsPipelineHeld() {
        abortMidStream(hivemq.tcpUri(), MqttVersion.MQTT_3_1_1, false);
    }

    static void abortMidStream(String uri, MqttVersion version, boolean manual) {
        int total = 400;
        String id = "killed-" + System.nanoTime();
        String topic = "work" + System.nanoTime();
        MqttClient.Builder b = MqttClient.builder().endpoint(uri).version(version).clientId(id).cleanStart(false)
                .reconnect(fast());
        if (version == MqttVersion.MQTT_5) {
            b.sessionExpiry(Duration.ofMinutes(5));
        }
        MqttClient first = b.build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(first.lifecycle());
        first.start();
        Set<String> emittedToFirst = ConcurrentHashMap.newKeySet();
        Set<String> processed = ConcurrentHashMap.newKeySet();
        AtomicInteger firstProcessed = new AtomicInteger();
        Flux<String> work = manual
                ? first.subscribeWithAcknowledgement(MqttSubscription.of(topic + "/#", MqttQos.AT_LEAST_ONCE))
                .doOnNext(d -> emittedToFirst.add(d.message().payloadAsString()))
                .concatMap(d -> Mono.delay(Duration.ofMillis(2)).doOnNext(x -> {
                    processed.add(d.message().payloadAsString());
                    firstProcessed.incrementAndGet();
                    d.acknowledge();
                }).thenReturn(d.message().payloadAsString()), 1)
                : first.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE)
                .doOnNext(m -> emittedToFirst.add(m.payloadAsString()))
                .concatMap(m -> Mono.delay(Duration.ofMillis(2)).doOnNext(x -> {
                    processed.add(m.payloadAsString());
                    firstProcessed.incrementAndGet();
                }).thenReturn(m.payloadAsString()), 1);
        Disposable running = work.subscribe();
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed"), WAIT);
        MqttClient pub = publisher(uri, version);
        MqttClient second = null;
        try {
            publishAll(pub, topic, total, MqttQos.AT_LEAST_ONCE);
            Await.until(() -> firstProcessed.get() >= total / 4, WAIT, "a quarter processed");
            // Killed: the socket goes at once, the pipeline with it; nothing more is processed by it.
            first.abort().block(WAIT);
            running.dispose();
            // Emitted to the first one's pipeline and not processed: acknowledged (automatic mode), so lost with
            // the process; with manual acknowledgement they were never acknowledged, so nothing may be missing.
            Set<String> heldByFirstPipeline = manual ? Set.of() : emittedToFirst.stream()
                    .filter(p -> !processed.contains(p)).collect(Collectors.toSet());

            second = b.build();
            second.start();
            // Subscribes only after CONNACK: the session's replay waits for it instead of being dropped.
            second.awaitConnected(WAIT).block();
            Recorder<MqttMessage> rest = Recorder.of(second.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE));
            rest.items();
            Set<String> expected = IntStream.range(0, total).mapToObj(Integer::toString).collect(Collectors.toSet());
            Set<String> missing = ConcurrentHashMap.newKeySet();
            try {
                Await.until(() -> {
                    rest.items().forEach(m -> processed.add(m.payloadAsString()));
                    missing.clear();
                    missing.addAll(expected);
                    missing.removeAll(processed);
                    missing.removeAll(heldByFirstPipeline);
                    return missing.isEmpty();
                }, WAIT, "every message processed by one of the two, or held by the first one's pipeline");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; missing " + missing.size() + ": " + missing + "; processed by the "
                        + "first " + firstProcessed.get() + ", emitted to the first " + emittedToFirst.size()
                        + ", received by the second " + rest.items().size(), e);
            }
            // concatMap with prefetch 1 holds at most one message beyond the one in work.
            assertThat(heldByFirstPipeline.size()).as("held by the first pipeline").isLessThanOrEqualTo(2);
        } finally {
            if (second != null) {
                second.close().block(WAIT);
            }
            pub.close().block(WAIT);
        }
    }

    @Test
    void messagesReplayedRightAfterConnackWaitForTheLateSubscriber() {
        String id = "late-" + System.nanoTime();
        String topic = "late" + System.nanoTime();
        MqttClient.Builder b = persistentSession(id);
        subscribeThenLeave(b, topic + "/#");
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        MqttClient again = b.build();
        try {
            publishAll(pub, topic, 50, MqttQos.AT_LEAST_ONCE);
            again.start();
            again.awaitConnected(WAIT).block();
            barrier(again);
            Recorder<MqttMessage> got = Recorder.of(again.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE));
            got.awaitCount(50, m -> true, WAIT);
            assertThat(got.items().stream().map(MqttMessage::payloadAsString).distinct().count()).isEqualTo(50);
        } finally {
            again.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    /**
     * Which member gets how many is the broker's choice (HiveMQ CE may give one member everything, and with a
     * member that asks for nothing it sometimes holds the whole group's queue); the split itself is checked
     * against Mosquitto in the interop profile. What the client owes: each message arrives once in the group.
     */
    @Test
    void aSharedGroupOfTwoClientsDeliversEachMessageOnce() {
        String group = "g" + System.nanoTime();
        String topic = "sensors" + System.nanoTime();
        MqttClient a = MqttClient.builder().endpoint(hivemq.tcpUri()).reconnect(fast()).build();
        MqttClient b = MqttClient.builder().endpoint(hivemq.tcpUri()).reconnect(fast()).build();
        Recorder<LifecycleEvent> aEvents = Recorder.lifecycle(a.lifecycle());
        Recorder<LifecycleEvent> bEvents = Recorder.lifecycle(b.lifecycle());
        a.start();
        b.start();
        Recorder<MqttMessage> ra = Recorder.of(a.subscribe("$share/" + group + "/" + topic + "/#", MqttQos.AT_LEAST_ONCE));
        Recorder<MqttMessage> rb = Recorder.of(b.subscribe("$share/" + group + "/" + topic + "/#", MqttQos.AT_LEAST_ONCE));
        aEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        bEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            publishAll(pub, topic, 200, MqttQos.AT_LEAST_ONCE);
            Await.until(() -> ra.items().size() + rb.items().size() >= 200, WAIT, "200 messages across the group");
            barrier(a);
            barrier(b);
            List<String> all = new java.util.ArrayList<>();
            ra.items().forEach(m -> all.add(m.payloadAsString()));
            rb.items().forEach(m -> all.add(m.payloadAsString()));
            assertThat(all).hasSize(200).doesNotHaveDuplicates();
            assertThat(a.awaitConnected(WAIT).block().sharedSubscriptionsAvailable()).isTrue();
        } finally {
            a.close().block(WAIT);
            b.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void everySubscriberOfAFilterSeesTheRetainedMessageOnceMqtt5() {
        retainedOncePerSubscriber(hivemq.tcpUri(), MqttVersion.MQTT_5);
    }

    @Test
    void everySubscriberOfAFilterSeesTheRetainedMessageOnceMqtt311() {
        try (MoquetteBroker moquette = MoquetteBroker.start()) {
            retainedOncePerSubscriber(moquette.tcpUri(), MqttVersion.MQTT_3_1_1);
        }
    }

    static void retainedOncePerSubscriber(String uri, MqttVersion version) {
        String topic = "state" + System.nanoTime();
        MqttClient pub = publisher(uri, version);
        MqttClient client = MqttClient.builder().endpoint(uri).version(version).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.start();
        try {
            pub.publish(MqttMessage.builder(topic + "/lamp").payload("on".getBytes()).qos(MqttQos.AT_LEAST_ONCE)
                    .retain(true).build()).block(WAIT);
            Recorder<MqttMessage> first = Recorder.of(client.subscribe(topic + "/#", MqttQos.AT_MOST_ONCE));
            first.await(m -> m.retain(), WAIT);
            Recorder<MqttMessage> second = Recorder.of(client.subscribe(topic + "/#", MqttQos.AT_MOST_ONCE));
            second.await(m -> m.retain(), WAIT);
            // A higher QoS: subscribed again; the retained message goes to the newcomer alone.
            Recorder<MqttMessage> third = Recorder.of(client.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE));
            third.await(m -> m.retain(), WAIT);
            Recorder<MqttMessage> none = Recorder.of(client.subscribe(MqttSubscription.builder(topic + "/#")
                    .qos(MqttQos.AT_MOST_ONCE).retainHandling(RetainHandling.DO_NOT_SEND).build()));
            events.awaitCount(3, e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
            // A live message after everything: when it has arrived everywhere, any duplicate would have too.
            pub.publish(MqttMessage.of(topic + "/end", "end", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            for (Recorder<MqttMessage> r : List.of(first, second, third, none)) {
                r.await(m -> m.payloadAsString().equals("end"), WAIT);
            }
            assertThat(first.items().stream().filter(MqttMessage::retain)).hasSize(1);
            assertThat(second.items().stream().filter(MqttMessage::retain)).hasSize(1);
            assertThat(third.items().stream().filter(MqttMessage::retain)).hasSize(1);
            assertThat(none.items().stream().filter(MqttMessage::retain)).isEmpty();
        } finally {
            client.close().block(WAIT);
            pub.publish(MqttMessage.builder(topic + "/lamp").payload(new byte[0]).qos(MqttQos.AT_LEAST_ONCE).retain(true)
                    .build()).block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void overlappingFiltersDeliverOnePublishOncePerSubscriber() {
        String topic = "over" + System.nanoTime();
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri()).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.start();
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            Recorder<MqttMessage> wide = Recorder.of(client.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE));
            Recorder<MqttMessage> narrow = Recorder.of(client.subscribe(topic + "/+", MqttQos.AT_LEAST_ONCE));
            events.awaitCount(2, e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
            assertThat(client.awaitConnected(WAIT).block().subscriptionIdentifiersAvailable()).isTrue();
            pub.publish(MqttMessage.of(topic + "/a", "a", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            pub.publish(MqttMessage.of(topic + "/end", "end", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            wide.await(m -> m.payloadAsString().equals("end"), WAIT);
            narrow.await(m -> m.payloadAsString().equals("end"), WAIT);
            barrier(client);
            assertThat(wide.items().stream().filter(m -> m.payloadAsString().equals("a"))).hasSize(1);
            assertThat(narrow.items().stream().filter(m -> m.payloadAsString().equals("a"))).hasSize(1);
        } finally {
            client.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void aQos0FloodIntoASubscriberWithoutDemandPausesReadingAndLosesNothing() {
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).inboundBufferSize(16).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        String topic = "flood" + System.nanoTime();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe(topic + "/#", MqttQos.AT_MOST_ONCE).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            byte[] payload = new byte[4096];
            pub.publishAll(Flux.range(0, 300).map(i -> MqttMessage.of(topic + "/" + i, payload, MqttQos.AT_MOST_ONCE)))
                    .then().block(WAIT);
            app.request(Long.MAX_VALUE);
            Await.until(() -> app.received.size() == 300, WAIT, "all 300 QoS 0 messages");
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("inbound-dropped"));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @ParameterizedTest(name = "QoS {0}")
    @ValueSource(ints = {0, 1, 2})
    void aFloodIntoASubscriberThatAsksForNothingStaysWithinTheBuffersAndTheReceiveMaximum(int qosValue) {
        MqttQos qos = MqttQos.of(qosValue);
        int bufferSize = 32;
        int receiveMaximum = 10;
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).inboundBufferSize(bufferSize)
                .receiveMaximum(receiveMaximum).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        String topic = "bounded" + System.nanoTime();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe(topic + "/#", qos).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        AtomicInteger maxBuffered = new AtomicInteger();
        AtomicInteger maxUnacknowledged = new AtomicInteger();
        Disposable sampler = Flux.interval(Duration.ofMillis(2)).subscribe(i -> {
            MqttInboundState st = sub.inboundState();
            maxBuffered.accumulateAndGet(st.buffered(), Math::max);
            maxUnacknowledged.accumulateAndGet(st.unacknowledged(), Math::max);
        });
        int total = 400;
        try {
            byte[] payload = new byte[16 * 1024];
            pub.publishAll(Flux.range(0, total).map(i -> MqttMessage.of(topic + "/" + i, payload, qos))).then().block(WAIT);
            if (qos == MqttQos.AT_MOST_ONCE) {
                Await.until(() -> sub.inboundState().readingPaused(), WAIT, "reads paused by the full buffer");
            } else {
                // How many the broker sends up to the Receive Maximum is its choice (HiveMQ CE sends 8 to 10);
                // after a round trip on the subscriber's own connection, what it sent has been read.
                Await.until(() -> sub.inboundState().unacknowledged() > 0, WAIT, "unacknowledged messages");
                barrier(sub);
                assertThat(sub.inboundState().unacknowledged()).as("unacknowledged while the application asks for nothing")
                        .isBetween(1, receiveMaximum);
            }
            MqttInboundState full = sub.inboundState();
            // One socket read beyond the bound at most: 64 KiB, four of these messages.
            assertThat(full.buffered()).as("buffered while the application asks for nothing: %s", full)
                    .isLessThanOrEqualTo(bufferSize + 4);
            app.request(Long.MAX_VALUE);
            Await.until(() -> app.received.size() == total, WAIT, "all " + total + " messages");
            assertThat(maxBuffered.get()).as("most ever buffered").isLessThanOrEqualTo(bufferSize + 4);
            if (qos != MqttQos.AT_MOST_ONCE) {
                assertThat(maxUnacknowledged.get()).as("most ever unacknowledged").isLessThanOrEqualTo(receiveMaximum);
            }
            assertThat(app.received.stream().map(MqttMessage::topic).distinct().count()).isEqualTo(total);
            assertThat(sub.inboundState().droppedQos0()).isZero();
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
        } finally {
            sampler.dispose();
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void inboundMetersReadTheClientsState() {
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).receiveMaximum(3).reconnect(fast()).build();
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        MqttMetrics.bind(sub, registry);
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        String topic = "meters" + System.nanoTime();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            publishAll(pub, topic, 5, MqttQos.AT_LEAST_ONCE);
            // The broker sends up to the Receive Maximum of 3 (how many is its choice); none is acknowledged.
            Await.until(() -> registry.get("tether.mqtt.inbound.unacknowledged").gauge().value() > 0, WAIT, "unacknowledged");
            barrier(sub);
            double unacknowledged = registry.get("tether.mqtt.inbound.unacknowledged").gauge().value();
            assertThat(unacknowledged).isBetween(1.0, 3.0);
            assertThat(registry.get("tether.mqtt.inbound.buffered").gauge().value()).isEqualTo(unacknowledged);
            assertThat(registry.get("tether.mqtt.inbound.dropped").functionCounter().count()).isZero();
            app.request(Long.MAX_VALUE);
            Await.until(() -> app.received.size() == 5, WAIT, "all 5");
            Await.until(() -> registry.get("tether.mqtt.inbound.unacknowledged").gauge().value() == 0, WAIT, "none unacknowledged");
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }

    @Test
    void withDropQos0WhenFullAFullSubscriberLosesQos0AndSaysSo() {
        MqttClient sub = MqttClient.builder().endpoint(hivemq.tcpUri()).inboundBufferSize(8).dropQos0WhenFull(true)
                .reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        sub.start();
        String topic = "drop" + System.nanoTime();
        Manual<MqttMessage> app = new Manual<>();
        sub.subscribe(topic + "/#", MqttQos.AT_MOST_ONCE).subscribe(app);
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT);
        MqttClient pub = publisher(hivemq.tcpUri(), MqttVersion.MQTT_5);
        try {
            publishAll(pub, topic, 50, MqttQos.AT_MOST_ONCE);
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("inbound-dropped"), WAIT);
            barrier(sub);
            assertThat(sub.inboundState().buffered()).as("the full buffer").isEqualTo(8);
            app.request(Long.MAX_VALUE);
            // The 8 buffered messages come first; QoS 0 messages still on their way from the broker when the
            // demand arrives are delivered too. Every one of the 50 is either delivered or counted as dropped.
            Await.until(() -> app.received.size() >= 8
                    && app.received.size() + sub.inboundState().droppedQos0() == 50, WAIT,
                    "the 8 buffered messages, and every other one delivered or counted as dropped");
            assertThat(sub.inboundState().droppedQos0()).as("dropped while full").isPositive();
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            pub.close().block(WAIT);
        }
    }
}
