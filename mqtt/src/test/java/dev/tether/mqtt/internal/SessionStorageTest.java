package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSessionStore;
import dev.tether.mqtt.MqttSessionStoreException;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.PublishResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * What {@link OutboundPublishes} tells its session store, against a recording store and a recording writer that
 * share one log, so the order of store steps and packets shows.
 */
class SessionStorageTest {

    /** Keeps publishes in a map and logs each step. */
    static final class RecordingStore implements MqttSessionStore {
        final Map<Long, StoredPublish> held = new LinkedHashMap<>();
        final List<String> log;
        boolean full;
        long next = 1;

        RecordingStore(List<String> log) {
            this.log = log;
        }

        @Override
        public Contents open(SessionSettings settings) {
            List<StoredPublish> inFlight = new ArrayList<>();
            long waiting = 0;
            long last = 0;
            for (StoredPublish p : held.values()) {
                if (p.packetId() != 0) {
                    inFlight.add(p);
                } else {
                    waiting++;
                }
                last = Math.max(last, p.key());
            }
            return new Contents(inFlight, waiting, last, List.of(), java.util.Set.of(), List.of());
        }

        @Override
        public List<StoredPublish> waiting(long afterKey, long upToKey, int max) {
            List<StoredPublish> out = new ArrayList<>();
            for (StoredPublish p : held.values()) {
                if (p.key() > afterKey && p.key() <= upToKey && p.packetId() == 0 && out.size() < max) {
                    out.add(p);
                }
            }
            return out;
        }

        @Override
        public long add(MqttMessage message) {
            if (full) {
                throw new MqttSessionStoreException(null, "disk full", null);
            }
            long key = next++;
            held.put(key, new StoredPublish(key, message, 0, false));
            log.add("store add " + message.topic());
            return key;
        }

        @Override
        public void sent(long key, int packetId, MqttQos qos) {
            StoredPublish p = held.get(key);
            held.put(key, new StoredPublish(key, p.message(), packetId, false));
            log.add("store sent " + p.message().topic() + " " + packetId);
        }

        @Override
        public void released(long key) {
            StoredPublish p = held.get(key);
            held.put(key, new StoredPublish(key, p.message(), p.packetId(), true));
            log.add("store released " + p.packetId());
        }

        @Override
        public void remove(long key) {
            StoredPublish p = held.remove(key);
            log.add("store remove " + p.message().topic());
        }

        @Override
        public void close() {
        }
    }

    private final PacketIds ids = new PacketIds();
    private final List<Runnable> after = new ArrayList<>();
    private final OutboundPublishesTest.Writer w = new OutboundPublishesTest.Writer();
    private final RecordingStore store = new RecordingStore(w.wrote);

    private OutboundPublishes outbound() {
        OutboundPublishes o = new OutboundPublishes(ids, 100, OverflowPolicy.FAIL_NEWEST, 100, 1024, true, () -> { });
        o.useStore(new SessionStorage(store), store.open(MqttSessionStore.SessionSettings.of("c")), after);
        return o;
    }

    private static NegotiatedSession session(boolean present, MqttQos maximumQos) {
        return new NegotiatedSession(MqttVersion.MQTT_5, present, "c", Duration.ofSeconds(60), 0xFFFF, maximumQos, true,
                Optional.empty(), "tcp", true, true);
    }

    private AtomicReference<Object> publish(OutboundPublishes outbound, PublishWriter c, String topic, MqttQos qos) {
        AtomicReference<Object> outcome = new AtomicReference<>();
        AtomicReference<OutboundPublishes.Publish> op = new AtomicReference<>();
        Mono.<PublishResult>create(sink -> op.set(new OutboundPublishes.Publish(MqttMessage.of(topic, "x", qos), sink)))
                .subscribe(outcome::set, outcome::set);
        outbound.publish(op.get(), c, after);
        runAfter();
        return outcome;
    }

    private void runAfter() {
        List<Runnable> copy = List.copyOf(after);
        after.clear();
        copy.forEach(Runnable::run);
    }

    @Test
    void aQos2PublishIsStoredBeforeItIsSentAndItsPubrelStateBeforePubrel() {
        OutboundPublishes outbound = outbound();
        w.canSend = false;
        publish(outbound, null, "a", MqttQos.EXACTLY_ONCE);
        w.canSend = true;
        outbound.connected(w, session(true, MqttQos.EXACTLY_ONCE), after);
        outbound.drain(w, after);
        outbound.onPubRec(w, w, 1, 0, after);
        outbound.onPubComp(w, 1, 0, after);
        runAfter();
        assertThat(w.wrote).containsExactly("store add a", "store sent a 1", "PUBLISH 1 a", "store released 1",
                "PUBREL 1", "store remove a");
        assertThat(store.held).isEmpty();
    }

    @Test
    void whatTheStoreHeldIsResentWithItsIdsThenTheRestIsSent() {
        store.held.put(7L, new MqttSessionStore.StoredPublish(7, MqttMessage.of("in-flight", "x", MqttQos.AT_LEAST_ONCE), 5, false));
        store.held.put(8L, new MqttSessionStore.StoredPublish(8, MqttMessage.of("released", "x", MqttQos.EXACTLY_ONCE), 6, true));
        store.held.put(9L, new MqttSessionStore.StoredPublish(9, MqttMessage.of("waiting", "x", MqttQos.AT_LEAST_ONCE), 0, false));
        store.next = 10;
        OutboundPublishes outbound = outbound();
        assertThat(ids.isInUse(5)).isTrue();
        outbound.connected(w, session(true, MqttQos.EXACTLY_ONCE), after);
        outbound.drain(w, after);
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 5 in-flight DUP", "PUBREL 6", "store sent waiting 1", "PUBLISH 1 waiting");
        assertThat(w.notices).singleElement().asString().startsWith("resent: 2 publishes");
        outbound.onPubAck(w, 5, 0, after);
        outbound.onPubComp(w, 6, 0, after);
        outbound.onPubAck(w, 1, 0, after);
        assertThat(store.held).isEmpty();
    }

    @Test
    void withoutTheSessionWhatWasInFlightIsSentAgainAsNewPublishes() {
        store.held.put(1L, new MqttSessionStore.StoredPublish(1, MqttMessage.of("a", "x", MqttQos.AT_LEAST_ONCE), 9, false));
        store.next = 2;
        OutboundPublishes outbound = outbound();
        outbound.connected(w, session(false, MqttQos.EXACTLY_ONCE), after);
        outbound.drain(w, after);
        runAfter();
        assertThat(w.wrote).containsExactly("store sent a 0", "store sent a 1", "PUBLISH 1 a");
        assertThat(w.notices).singleElement().asString().startsWith("republished: 1 publishes");
    }

    @Test
    void aLargeStoreIsReadPageByPageInOrderNothingTwiceAndNewPublishesGoAfterIt() {
        store.held.put(1L, new MqttSessionStore.StoredPublish(1, MqttMessage.of("in-flight", "x", MqttQos.AT_LEAST_ONCE), 9, false));
        for (long k = 2; k <= 301; k++) {
            store.held.put(k, new MqttSessionStore.StoredPublish(k, MqttMessage.of("r" + (k - 2), "x", MqttQos.AT_LEAST_ONCE), 0, false));
        }
        store.next = 302;
        OutboundPublishes outbound = outbound(); // maxInFlight 100: pages of 100
        assertThat(outbound.waiting()).as("nothing read before it is sent").isZero();
        assertThat(outbound.idle()).isFalse();
        // No session: the publish that was in flight goes again as a new one, and its key must not come back in a page.
        outbound.connected(w, session(false, MqttQos.EXACTLY_ONCE), after);
        publish(outbound, w, "new", MqttQos.AT_LEAST_ONCE);
        for (int round = 0; round < 10 && !outbound.idle(); round++) {
            outbound.drain(w, after);
            assertThat(outbound.waiting()).as("in memory: at most a page and the new publish").isLessThanOrEqualTo(101);
            for (Integer id : outbound.inFlightIds()) {
                outbound.onPubAck(w, id, 0, after);
            }
        }
        runAfter();
        List<String> expected = new ArrayList<>();
        expected.add("in-flight");
        for (int i = 0; i < 300; i++) {
            expected.add("r" + i);
        }
        expected.add("new");
        assertThat(w.wrote.stream().filter(l -> l.startsWith("PUBLISH")).map(l -> l.split(" ")[2]).toList())
                .containsExactlyElementsOf(expected);
        assertThat(outbound.idle()).isTrue();
        assertThat(store.held).isEmpty();
    }

    @Test
    void aPublishLoweredToQos0ByTheBrokerLeavesTheStoreWhenWritten() {
        OutboundPublishes outbound = outbound();
        outbound.connected(w, session(false, MqttQos.AT_MOST_ONCE), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        assertThat(w.wrote).containsExactly("store add a", "store remove a", "PUBLISH 0 a");
        assertThat(store.held).isEmpty();
    }

    @Test
    void aPublishTheStoreCannotKeepFailsAndNothingWaits() {
        OutboundPublishes outbound = outbound();
        store.full = true;
        AtomicReference<Object> outcome = publish(outbound, null, "a", MqttQos.AT_LEAST_ONCE);
        assertThat(outcome.get()).isInstanceOf(MqttSessionStoreException.class);
        assertThat(outbound.waiting()).isZero();
        store.full = false;
        publish(outbound, null, "b", MqttQos.AT_LEAST_ONCE);
        assertThat(outbound.waiting()).isEqualTo(1);
    }
}
