package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttPacketTooLargeException;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.PublishResult;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Outbound publishes against a recording {@link PublishWriter}, no broker: the offline buffer's overflow
 * policies, the Receive Maximum window, resend or republish on a new connection, acknowledgements.
 */
class OutboundPublishesTest {

    /** Records what one connection was asked to write. */
    static final class Writer implements PublishWriter {
        final List<String> wrote = new ArrayList<>();
        final List<String> notices = new ArrayList<>();
        boolean canSend = true;
        boolean onLoop = true;
        int drainsScheduled;
        /** QoS 0 publishes written and flushed on their own. */
        int flushedAlone;
        @Nullable Throwable writeFailure;

        @Override
        public boolean canSend() {
            return canSend;
        }

        @Override
        public boolean inEventLoop() {
            return onLoop;
        }

        @Override
        public void scheduleDrain(Runnable task) {
            drainsScheduled++;
        }

        @Override
        public void writePublishSoon(MqttMessage message, int packetId) {
            writeQueued(message, packetId);
        }

        private Future<Void> writeQueued(MqttMessage message, int packetId) {
            wrote.add("PUBLISH " + packetId + " " + message.topic());
            Throwable failure = writeFailure;
            return failure != null ? ImmediateEventExecutor.INSTANCE.newFailedFuture(failure)
                    : ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        }

        @Override
        public Future<Void> writeAtMostOnce(MqttMessage message) {
            flushedAlone++;
            return writeQueued(message, 0);
        }

        @Override
        public Future<Void> writePublish(MqttMessage message, int packetId, boolean dup) {
            wrote.add("PUBLISH " + packetId + " " + message.topic() + (dup ? " DUP" : ""));
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        }

        @Override
        public void writePubRel(int packetId) {
            wrote.add("PUBREL " + packetId);
        }

        @Override
        public void reportNotice(String kind, String details) {
            notices.add(kind + ": " + details);
        }
    }

    /** What became of one publish. */
    static final class Outcome {
        @Nullable PublishResult result;
        @Nullable Throwable error;
        boolean completed;

        boolean droppedQuietly() {
            return completed && result == null && error == null;
        }
    }

    private final PacketIds ids = new PacketIds();
    private final List<Runnable> after = new ArrayList<>();

    private OutboundPublishes outbound(int offlineCapacity, OverflowPolicy policy, int maxInFlight) {
        return new OutboundPublishes(ids, offlineCapacity, policy, maxInFlight, 1024, true, () -> { });
    }

    private static NegotiatedSession session(boolean present, int receiveMaximum) {
        return new NegotiatedSession(MqttVersion.MQTT_5, present, "c", Duration.ofSeconds(60), receiveMaximum,
                MqttQos.EXACTLY_ONCE, true, Optional.empty(), "tcp", true, true);
    }

    private static NegotiatedSession sessionWithMaximumPacketSize(boolean present, long maximumPacketSize) {
        return new NegotiatedSession(MqttVersion.MQTT_5, present, "c", Duration.ofSeconds(60), 0xFFFF,
                MqttQos.EXACTLY_ONCE, true, Optional.of(maximumPacketSize), "tcp", true, true);
    }

    private Outcome publish(OutboundPublishes outbound, @Nullable PublishWriter c, String topic, MqttQos qos) {
        return publish(outbound, c, MqttMessage.builder(topic).payload("x".getBytes()).qos(qos).build());
    }

    private Outcome publish(OutboundPublishes outbound, @Nullable PublishWriter c, MqttMessage message) {
        Outcome out = new Outcome();
        AtomicReference<OutboundPublishes.Publish> op = new AtomicReference<>();
        Mono.<PublishResult>create(sink -> op.set(new OutboundPublishes.Publish(message, sink)))
                .subscribe(r -> out.result = r, e -> out.error = e, () -> out.completed = true);
        outbound.publish(op.get(), c, after);
        runAfter();
        return out;
    }

    private void runAfter() {
        List<Runnable> copy = List.copyOf(after);
        after.clear();
        copy.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ offline buffer

    @Test
    void offlineFailNewestRefusesThePublishThatDoesNotFit() {
        OutboundPublishes outbound = outbound(2, OverflowPolicy.FAIL_NEWEST, 100);
        Outcome a = publish(outbound, null, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, null, "b", MqttQos.AT_LEAST_ONCE);
        Outcome c = publish(outbound, null, "c", MqttQos.AT_LEAST_ONCE);

        assertThat(c.error).isInstanceOf(BufferOverflowException.class);
        assertThat(a.completed || a.error != null).isFalse();
        assertThat(b.completed || b.error != null).isFalse();
        assertThat(outbound.waiting()).isEqualTo(2);

        Writer w = new Writer();
        outbound.connected(w, session(false, 0xFFFF), after);
        outbound.drain(w, after);
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b");
    }

    @Test
    void offlineDropNewestCompletesTheNewPublishEmpty() {
        OutboundPublishes outbound = outbound(2, OverflowPolicy.DROP_NEWEST, 100);
        publish(outbound, null, "a", MqttQos.AT_LEAST_ONCE);
        publish(outbound, null, "b", MqttQos.AT_LEAST_ONCE);
        Outcome c = publish(outbound, null, "c", MqttQos.AT_LEAST_ONCE);

        assertThat(c.droppedQuietly()).isTrue();
        Writer w = new Writer();
        outbound.connected(w, session(false, 0xFFFF), after);
        outbound.drain(w, after);
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b");
    }

    @Test
    void offlineDropOldestMakesRoomForTheNewPublish() {
        OutboundPublishes outbound = outbound(2, OverflowPolicy.DROP_OLDEST, 100);
        Outcome a = publish(outbound, null, "a", MqttQos.AT_LEAST_ONCE);
        publish(outbound, null, "b", MqttQos.AT_LEAST_ONCE);
        Outcome c = publish(outbound, null, "c", MqttQos.AT_LEAST_ONCE);

        assertThat(a.droppedQuietly()).isTrue();
        assertThat(c.completed || c.error != null).isFalse();
        Writer w = new Writer();
        outbound.connected(w, session(false, 0xFFFF), after);
        outbound.drain(w, after);
        assertThat(w.wrote).containsExactly("PUBLISH 1 b", "PUBLISH 2 c");
    }

    @Test
    void aConnectionThatCannotSendCountsAsOffline() {
        OutboundPublishes outbound = outbound(1, OverflowPolicy.FAIL_NEWEST, 100);
        Writer w = new Writer();
        w.canSend = false;
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);

        assertThat(w.wrote).isEmpty();
        assertThat(b.error).isInstanceOf(BufferOverflowException.class);
    }

    @Test
    void aCancelledPublishIsNoLongerSent() {
        OutboundPublishes outbound = outbound(10, OverflowPolicy.FAIL_NEWEST, 100);
        AtomicReference<OutboundPublishes.Publish> op = new AtomicReference<>();
        Mono.<PublishResult>create(sink -> op.set(new OutboundPublishes.Publish(
                MqttMessage.builder("a").payload("x".getBytes()).qos(MqttQos.AT_LEAST_ONCE).build(), sink))).subscribe();
        outbound.publish(op.get(), null, after);
        outbound.cancel(op.get());

        Writer w = new Writer();
        outbound.connected(w, session(false, 0xFFFF), after);
        outbound.drain(w, after);
        assertThat(w.wrote).isEmpty();
        assertThat(outbound.idle()).isTrue();
    }

    // ------------------------------------------------------------------ waiting while connected

    @Test
    void whileConnectedWhatWaitsForASlotIsBoundedLikeTheOfflineBufferFailNewest() {
        // Capacity 2, maxInFlight 1: the bound is max(2, 1) = 2 publishes waiting behind the one in flight.
        OutboundPublishes outbound = outbound(2, OverflowPolicy.FAIL_NEWEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        Outcome a = publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);
        publish(outbound, w, "c", MqttQos.AT_LEAST_ONCE);
        Outcome d = publish(outbound, w, "d", MqttQos.AT_LEAST_ONCE);

        assertThat(w.wrote).containsExactly("PUBLISH 1 a");
        assertThat(outbound.waiting()).isEqualTo(2);
        assertThat(d.error).isInstanceOf(BufferOverflowException.class);
        assertThat(a.error).isNull();
        outbound.onPubAck(w, 1, 0x00, after);
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b");
        assertThat(outbound.waiting()).isEqualTo(1);
    }

    @Test
    void whileConnectedDropOldestMakesRoomAmongTheWaitingPublishes() {
        OutboundPublishes outbound = outbound(2, OverflowPolicy.DROP_OLDEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);
        publish(outbound, w, "c", MqttQos.AT_LEAST_ONCE);
        Outcome d = publish(outbound, w, "d", MqttQos.AT_LEAST_ONCE);

        assertThat(b.droppedQuietly()).isTrue();
        assertThat(d.completed || d.error != null).isFalse();
        outbound.onPubAck(w, 1, 0x00, after);
        outbound.onPubAck(w, 2, 0x00, after);
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 c", "PUBLISH 3 d");
    }

    @Test
    void theConnectedBoundIsAtLeastMaxInFlightSoPublishAllNeverOverflows() {
        // Receive Maximum 1 but maxInFlight 5: publishAll keeps 5 outstanding, 4 of them waiting.
        OutboundPublishes outbound = outbound(0, OverflowPolicy.FAIL_NEWEST, 5);
        Writer w = new Writer();
        outbound.connected(w, session(false, 1), after);
        List<Outcome> outcomes = new ArrayList<>();
        for (String t : List.of("a", "b", "c", "d", "e")) {
            outcomes.add(publish(outbound, w, t, MqttQos.AT_LEAST_ONCE));
        }
        assertThat(outcomes).allSatisfy(o -> assertThat(o.error).isNull());
        assertThat(outbound.waiting()).isEqualTo(4);
        // The bound is max(capacity 0, maxInFlight 5) = 5 waiting: one more fits, the next does not.
        assertThat(publish(outbound, w, "f", MqttQos.AT_LEAST_ONCE).error).isNull();
        assertThat(publish(outbound, w, "g", MqttQos.AT_LEAST_ONCE).error).isInstanceOf(BufferOverflowException.class);
    }

    @Test
    void publishesLeaveFreedPacketIdsToASubscribeThatWaitsForOne() {
        boolean[] subscribeWaits = {true};
        OutboundPublishes outbound = new OutboundPublishes(ids, 100, OverflowPolicy.FAIL_NEWEST, 100, 1024, true, () -> { },
                () -> subscribeWaits[0]);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        assertThat(w.wrote).as("no id for a publish while a SUBSCRIBE waits for one").isEmpty();
        subscribeWaits[0] = false;
        outbound.drain(w, after);
        assertThat(w.wrote).containsExactly("PUBLISH 1 a");
    }

    // ------------------------------------------------------------------ the in-flight window

    @Test
    void theReceiveMaximumBoundsWhatIsInFlight() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 100);
        Writer w = new Writer();
        outbound.connected(w, session(false, 2), after);
        List<Outcome> outcomes = new ArrayList<>();
        for (String t : List.of("a", "b", "c", "d")) {
            outcomes.add(publish(outbound, w, t, MqttQos.AT_LEAST_ONCE));
        }

        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b");
        assertThat(outbound.inFlightIds()).containsExactly(1, 2);
        assertThat(outbound.waiting()).isEqualTo(2);

        assertThat(outbound.onPubAck(w, 1, 0x00, after)).isTrue();
        runAfter();
        assertThat(outcomes.get(0).result).isEqualTo(new PublishResult("a", MqttQos.AT_LEAST_ONCE, 1, 0));
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b", "PUBLISH 3 c");
        assertThat(outbound.inFlightIds()).containsExactly(2, 3);
        assertThat(ids.isInUse(1)).isFalse();
    }

    @Test
    void maxInFlightBoundsTheWindowBelowTheReceiveMaximum() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "a", MqttQos.EXACTLY_ONCE);
        publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);

        assertThat(w.wrote).containsExactly("PUBLISH 1 a");
        assertThat(outbound.onPubRec(w, w, 1, 0x00, after)).isTrue();
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBREL 1");
        assertThat(outbound.onPubComp(w, 1, 0x00, after)).isTrue();
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBREL 1", "PUBLISH 2 b");
    }

    @Test
    void qos0WaitsItsTurnAndCompletesWhenWritten() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 1), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);
        Outcome zero = publish(outbound, w, "z", MqttQos.AT_MOST_ONCE);

        // Waiting publishes leave in order: the QoS 0 waits behind the QoS 1 the window holds back.
        assertThat(w.wrote).containsExactly("PUBLISH 1 a");
        assertThat(zero.completed).isFalse();

        outbound.onPubAck(w, 1, 0x00, after);
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b", "PUBLISH 0 z");
        assertThat(zero.result).isEqualTo(new PublishResult("z", MqttQos.AT_MOST_ONCE, 0, 0));
        assertThat(b.completed).isFalse();
    }

    @Test
    void offTheEventLoopQos1WaitsForTheScheduledDrain() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 100);
        Writer w = new Writer();
        w.onLoop = false;
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);

        assertThat(w.wrote).isEmpty();
        assertThat(w.drainsScheduled).isEqualTo(1);
        w.onLoop = true;
        outbound.drainAndNotify(w, after);
        assertThat(w.wrote).containsExactly("PUBLISH 1 a");
    }

    @Test
    void offTheEventLoopQos0WaitsForTheScheduledDrainInOrderAndBeyondTheBuffersCapacity() {
        OutboundPublishes outbound = outbound(2, OverflowPolicy.FAIL_NEWEST, 2);
        Writer w = new Writer();
        w.onLoop = false;
        outbound.connected(w, session(false, 10), after);
        List<Outcome> zeros = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            zeros.add(publish(outbound, w, "z" + i, MqttQos.AT_MOST_ONCE));
        }
        Outcome one = publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        Outcome last = publish(outbound, w, "z5", MqttQos.AT_MOST_ONCE);

        // Nothing written from the caller's thread: one drain on the event loop writes them all, in order. A QoS 0
        // publish is never refused for the buffer's capacity while the connection can send.
        assertThat(w.wrote).isEmpty();
        assertThat(zeros).allSatisfy(o -> assertThat(o.completed).isFalse());
        assertThat(w.drainsScheduled).isPositive();
        w.onLoop = true;
        outbound.drainAndNotify(w, after);
        runAfter();
        assertThat(w.wrote).containsExactly("PUBLISH 0 z0", "PUBLISH 0 z1", "PUBLISH 0 z2", "PUBLISH 0 z3",
                "PUBLISH 0 z4", "PUBLISH 1 a", "PUBLISH 0 z5");
        // Each QoS 0 publish is flushed on its own (one segment each); the QoS 1 one waits for the burst's flush.
        assertThat(w.flushedAlone).isEqualTo(6);
        assertThat(zeros).allSatisfy(o -> assertThat(o.error).isNull());
        assertThat(zeros.get(4).result).isEqualTo(new PublishResult("z4", MqttQos.AT_MOST_ONCE, 0, 0));
        assertThat(last.result).isEqualTo(new PublishResult("z5", MqttQos.AT_MOST_ONCE, 0, 0));
        assertThat(one.error).isNull();
        assertThat(one.completed).isFalse();
        assertThat(outbound.idle()).isFalse();
        outbound.onPubAck(w, 1, 0x00, after);
        assertThat(outbound.idle()).isTrue();
    }

    @Test
    void aQos0PublishWhoseWriteFailsFailsWithTheWritesCause() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        w.writeFailure = new java.io.IOException("connection reset");
        Outcome zero = publish(outbound, w, "z", MqttQos.AT_MOST_ONCE);
        assertThat(w.wrote).containsExactly("PUBLISH 0 z");
        assertThat(zero.error).isInstanceOf(java.io.IOException.class).hasMessage("connection reset");
        assertThat(zero.result).isNull();
    }

    @Test
    void aQos0PublishWaitingForTheEventLoopOfALostConnectionGoesBehindThePublishesInFlightOnTheNext() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer first = new Writer();
        outbound.connected(first, session(false, 10), after);
        publish(outbound, first, "a", MqttQos.AT_LEAST_ONCE);
        first.onLoop = false;
        Outcome zero = publish(outbound, first, "z", MqttQos.AT_MOST_ONCE);
        assertThat(first.wrote).containsExactly("PUBLISH 1 a");
        assertThat(outbound.waiting()).isEqualTo(1);

        // The connection is lost before its event loop drained; the broker kept no session.
        Writer second = new Writer();
        outbound.connected(second, session(false, 10), after);
        outbound.drain(second, after);
        runAfter();
        assertThat(second.wrote).containsExactly("PUBLISH 2 a", "PUBLISH 0 z"); // a new publish, a new id
        assertThat(zero.result).isEqualTo(new PublishResult("z", MqttQos.AT_MOST_ONCE, 0, 0));
    }

    @Test
    void aQos0PublishWaitingForTheEventLoopCanBeCancelledAndFailsWhenTheClientCloses() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer w = new Writer();
        w.onLoop = false;
        outbound.connected(w, session(false, 10), after);
        AtomicReference<OutboundPublishes.Publish> op = new AtomicReference<>();
        Mono.<PublishResult>create(sink -> op.set(new OutboundPublishes.Publish(
                MqttMessage.of("c", "x".getBytes(java.nio.charset.StandardCharsets.UTF_8), MqttQos.AT_MOST_ONCE), sink)))
                .subscribe();
        outbound.publish(op.get(), w, after);
        Outcome kept = publish(outbound, w, "k", MqttQos.AT_MOST_ONCE);
        outbound.cancel(op.get());
        assertThat(outbound.waiting()).isEqualTo(1);

        outbound.failAll(new dev.tether.core.ConnectionClosedException("closed", null), after);
        runAfter();
        assertThat(kept.error).hasMessage("closed");
        assertThat(outbound.idle()).isTrue();
        w.onLoop = true;
        outbound.drain(w, after);
        assertThat(w.wrote).isEmpty();
    }

    // ------------------------------------------------------------------ acknowledgements

    @Test
    void aPubrecErrorCodeFailsThePublishAndFreesItsSlot() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        Outcome a = publish(outbound, w, "a", MqttQos.EXACTLY_ONCE);
        publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);

        assertThat(outbound.onPubRec(w, w, 1, 0x87, after)).isTrue();
        runAfter();

        assertThat(a.error).isInstanceOf(MqttRefusedException.class)
                .hasMessage("the broker refused the publish to 'a' with PUBREC reason code 0x87");
        assertThat(w.wrote).containsExactly("PUBLISH 1 a", "PUBLISH 2 b").doesNotContain("PUBREL 1");
        assertThat(ids.isInUse(1)).isFalse();
        // The id is gone: a PUBCOMP for it is a protocol violation.
        assertThat(outbound.onPubComp(w, 1, 0x00, after)).isFalse();
    }

    @Test
    void aPubackErrorCodeFailsThePublish() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        Outcome a = publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);

        outbound.onPubAck(w, 1, 0x97, after);
        runAfter();

        assertThat(a.error).isInstanceOf(MqttRefusedException.class)
                .hasMessage("the broker refused the publish to 'a' with PUBACK reason code 0x97");
    }

    @Test
    void acknowledgementsOfTheWrongKindAreRefused() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "one", MqttQos.AT_LEAST_ONCE);
        publish(outbound, w, "two", MqttQos.EXACTLY_ONCE);

        assertThat(outbound.onPubAck(w, 2, 0x00, after)).isFalse();
        assertThat(outbound.onPubRec(w, w, 1, 0x00, after)).isFalse();
        assertThat(outbound.onPubComp(w, 2, 0x00, after)).as("not released yet").isFalse();
        assertThat(outbound.onPubAck(w, 99, 0x00, after)).isFalse();
        assertThat(outbound.inFlightIds()).containsExactly(1, 2);
    }

    @Test
    void drainedWaitersCompleteWhenTheLastPublishIsAcknowledged() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);
        List<String> drained = new ArrayList<>();
        Mono.<Void>create(outbound::whenDrained).subscribe(null, null, () -> drained.add("drained"));

        outbound.onPubAck(w, 1, 0x00, after);
        runAfter();
        assertThat(drained).isEmpty();
        outbound.onPubAck(w, 2, 0x00, after);
        runAfter();
        assertThat(drained).containsExactly("drained");
        assertThat(outbound.idle()).isTrue();
    }

    // ------------------------------------------------------------------ a new connection

    @Test
    void withTheSessionPresentInFlightPublishesAreResentWithTheirIds() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer first = new Writer();
        outbound.connected(first, session(false, 10), after);
        publish(outbound, first, "a", MqttQos.AT_LEAST_ONCE);
        publish(outbound, first, "b", MqttQos.EXACTLY_ONCE);
        publish(outbound, first, "c", MqttQos.EXACTLY_ONCE);
        outbound.onPubRec(first, first, 2, 0x00, after);

        Writer second = new Writer();
        outbound.connected(second, session(true, 10), after);
        runAfter();

        assertThat(second.wrote).containsExactly("PUBLISH 1 a DUP", "PUBREL 2", "PUBLISH 3 c DUP");
        assertThat(second.notices).containsExactly("resent: 3 publishes in flight resent with their original packet ids [1, 2, 3]");
        assertThat(outbound.inFlightIds()).containsExactly(1, 2, 3);
        assertThat(outbound.onPubComp(second, 2, 0x00, after)).isTrue();
    }

    @Test
    void withoutASessionInFlightPublishesAreSentAgainAsNewOnes() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer first = new Writer();
        outbound.connected(first, session(false, 10), after);
        Outcome a = publish(outbound, first, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, first, "b", MqttQos.EXACTLY_ONCE);
        publish(outbound, first, "c", MqttQos.EXACTLY_ONCE);
        outbound.onPubRec(first, first, 2, 0x00, after);
        first.canSend = false;
        Outcome d = publish(outbound, first, "d", MqttQos.AT_LEAST_ONCE);

        Writer second = new Writer();
        outbound.connected(second, session(false, 10), after);
        assertThat(second.wrote).as("nothing before the caller drains").isEmpty();
        outbound.drain(second, after);
        runAfter();

        // b was PUBRECed: the broker owns it, it is delivered; a and c go again, before d, with new ids.
        assertThat(b.result).isEqualTo(new PublishResult("b", MqttQos.EXACTLY_ONCE, 2, 0));
        assertThat(second.wrote).containsExactly("PUBLISH 4 a", "PUBLISH 5 c", "PUBLISH 6 d");
        assertThat(second.notices).containsExactly(
                "republished: 2 publishes in flight sent again as new publishes (the broker kept no session)");
        outbound.onPubAck(second, 4, 0x00, after);
        runAfter();
        assertThat(a.result).isEqualTo(new PublishResult("a", MqttQos.AT_LEAST_ONCE, 4, 0));
        assertThat(d.completed).isFalse();
    }

    @Test
    void aResentPublishLargerThanTheNewBrokerTakesFails() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Writer first = new Writer();
        outbound.connected(first, session(false, 10), after);
        Outcome big = publish(outbound, first, MqttMessage.builder("big").payload(new byte[200]).qos(MqttQos.AT_LEAST_ONCE).build());
        publish(outbound, first, "small", MqttQos.AT_LEAST_ONCE);

        Writer second = new Writer();
        outbound.connected(second, sessionWithMaximumPacketSize(true, 100), after);
        runAfter();

        assertThat(big.error).isInstanceOf(MqttPacketTooLargeException.class)
                .hasMessageContaining("larger than the broker's Maximum Packet Size of 100 bytes (CONNACK)");
        assertThat(second.wrote).containsExactly("PUBLISH 2 small DUP");
        assertThat(ids.isInUse(1)).isFalse();
    }

    @Test
    void aPublishLargerThanTheClientsMaxPacketSizeIsRefusedAtOnce() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 10);
        Outcome big = publish(outbound, null, MqttMessage.builder("big").payload(new byte[2000]).build());

        assertThat(big.error).isInstanceOf(MqttPacketTooLargeException.class)
                .hasMessageContaining("larger than the client's maxPacketSize of 1024 bytes")
                .hasMessageContaining("broker Maximum Packet Size not announced");
        assertThat(outbound.waiting()).isZero();
    }

    @Test
    void failAllFailsWhatWaitsAndWhatIsInFlight() {
        OutboundPublishes outbound = outbound(100, OverflowPolicy.FAIL_NEWEST, 1);
        Writer w = new Writer();
        outbound.connected(w, session(false, 10), after);
        Outcome a = publish(outbound, w, "a", MqttQos.AT_LEAST_ONCE);
        Outcome b = publish(outbound, w, "b", MqttQos.AT_LEAST_ONCE);
        List<String> drained = new ArrayList<>();
        Mono.<Void>create(outbound::whenDrained).subscribe(null, null, () -> drained.add("drained"));

        ConnectionClosedException closed = new ConnectionClosedException("closed", null);
        outbound.failAll(closed, after);
        outbound.releaseDrainWaiters(after);
        runAfter();

        assertThat(a.error).isSameAs(closed);
        assertThat(b.error).isSameAs(closed);
        assertThat(drained).containsExactly("drained");
        assertThat(outbound.idle()).isTrue();
    }
}
