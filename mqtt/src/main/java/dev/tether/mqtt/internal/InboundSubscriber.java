package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttDelivery;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSubscription;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;

/**
 * One subscriber of a subscription: a bounded queue drained under the subscriber's demand. Emitting a
 * message to an automatic subscriber releases it (its acknowledgement may then go out); a manual
 * subscriber releases it with {@link MqttDelivery#acknowledge()}.
 *
 * <p>Items are enqueued under the client's monitor (so their order is the order of arrival) and drained
 * outside it; the drain runs user code and never holds the monitor.
 */
final class InboundSubscriber implements Subscription {

    /** The client side a subscriber talks back to. */
    interface Listener {
        /** A target released the entry. */
        void released(InboundEntry entry);

        /** The subscriber cancelled; the entries it never emitted go back to the client. */
        void cancelled(InboundSubscriber subscriber, List<InboundEntry> notEmitted);

        /** The subscriber's buffer crossed its high (true) or low (false) water mark. */
        void saturated(boolean on);
    }

    /** A message in the queue, with its entry for QoS 1 and 2. */
    record Item(MqttMessage message, @Nullable InboundEntry entry) {
    }

    final MqttSubscription spec;
    final boolean manual;
    final int capacity;
    /** The SUBSCRIBE round whose retained messages this subscriber is due (see SubscriptionRegistry). */
    int round;

    private final CoreSubscriber<Object> actual;
    private final Listener listener;
    private final Queue<Item> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean saturated = new AtomicBoolean();
    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile boolean started;
    private volatile boolean done;
    private volatile @Nullable Throwable error;

    @SuppressWarnings("unchecked")
    InboundSubscriber(CoreSubscriber<?> actual, MqttSubscription spec, boolean manual, int capacity, Listener listener) {
        this.actual = (CoreSubscriber<Object>) actual;
        this.spec = spec;
        this.manual = manual;
        this.capacity = capacity;
        this.listener = listener;
    }

    /** @return whether its retain handling wants retained messages on subscribe */
    boolean wantsRetained() {
        return spec.retainHandling() != dev.tether.mqtt.RetainHandling.DO_NOT_SEND;
    }

    /** @return whether the buffer is at its bound */
    boolean full() {
        return size.get() >= capacity;
    }

    /** @return messages waiting in the buffer */
    int buffered() {
        return size.get();
    }

    /** Adds a message; call {@link #drain()} afterwards, outside the client's monitor. */
    void enqueue(MqttMessage message, @Nullable InboundEntry entry) {
        enqueue(message, entry, true);
    }

    /**
     * Adds a message; call {@link #drain()} afterwards, outside the client's monitor.
     *
     * @param mayPause whether reaching the bound pauses reading (false for a QoS 0 message that the client
     *                 drops, rather than pauses for, when the buffer is full)
     */
    void enqueue(MqttMessage message, @Nullable InboundEntry entry, boolean mayPause) {
        queue.offer(new Item(message, entry));
        if (size.incrementAndGet() >= capacity && mayPause && saturated.compareAndSet(false, true)) {
            listener.saturated(true);
            relieveIfLow();
        }
    }

    /** Removes the withdrawn entries (the connection they came on ended before they were emitted). */
    void purgeWithdrawn() {
        for (Item it : queue) {
            if (it.entry() != null && it.entry().withdrawn() && queue.remove(it)) {
                taken();
            }
        }
    }

    void complete() {
        done = true;
        drain();
    }

    void error(Throwable e) {
        error = e;
        done = true;
        drain();
    }

    /** Hands the subscription to the subscriber; nothing is emitted before. */
    void start() {
        actual.onSubscribe(this);
        started = true;
    }

    /** @return the entries still queued, removed from the queue (the subscriber is gone) */
    List<InboundEntry> takeRemaining() {
        List<InboundEntry> out = new ArrayList<>();
        Item it;
        while ((it = queue.poll()) != null) {
            taken();
            if (it.entry() != null && !it.entry().withdrawn()) {
                out.add(it.entry());
            }
        }
        return out;
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            for (;;) {
                long r = requested.get();
                if (r == Long.MAX_VALUE || requested.compareAndSet(r, Operators.addCap(r, n))) {
                    break;
                }
            }
            drain();
        }
    }

    @Override
    public void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        drain();
    }

    /** Emits what the demand allows. Runs user code: never call it under the client's monitor. */
    void drain() {
        if (!started || wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        for (;;) {
            if (cancelled) {
                abandonAll();
                return;
            }
            long r = requested.get();
            long e = 0;
            while (e != r) {
                if (cancelled) {
                    abandonAll();
                    return;
                }
                Item it = queue.poll();
                if (it == null) {
                    break;
                }
                taken();
                InboundEntry entry = it.entry();
                if (entry != null && !entry.claim()) {
                    continue;
                }
                if (manual) {
                    actual.onNext(new Delivery(it.message(), entry, listener));
                } else {
                    actual.onNext(it.message());
                    if (entry != null) {
                        listener.released(entry);
                    }
                }
                e++;
            }
            if (cancelled) {
                abandonAll();
                return;
            }
            if (done && queue.isEmpty()) {
                Throwable t = error;
                cancelled = true;
                if (t != null) {
                    actual.onError(t);
                } else {
                    actual.onComplete();
                }
                return;
            }
            if (e != 0 && r != Long.MAX_VALUE) {
                requested.addAndGet(-e);
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void abandonAll() {
        listener.cancelled(this, takeRemaining());
    }

    private void taken() {
        if (size.decrementAndGet() <= capacity / 2) {
            relieveIfLow();
        }
    }

    private void relieveIfLow() {
        if (size.get() <= capacity / 2 && saturated.compareAndSet(true, false)) {
            listener.saturated(false);
        }
    }

    @Override
    public String toString() {
        return "InboundSubscriber{" + spec.topicFilter() + (manual ? ", manual" : "") + ", buffered " + size.get() + "}";
    }

    /** A delivery of a manual subscription. */
    private static final class Delivery implements MqttDelivery {
        private final MqttMessage message;
        private final @Nullable InboundEntry entry;
        private final Listener listener;
        private final AtomicBoolean acknowledged = new AtomicBoolean();

        Delivery(MqttMessage message, @Nullable InboundEntry entry, Listener listener) {
            this.message = message;
            this.entry = entry;
            this.listener = listener;
        }

        @Override
        public MqttMessage message() {
            return message;
        }

        @Override
        public void acknowledge() {
            if (acknowledged.compareAndSet(false, true) && entry != null) {
                listener.released(entry);
            }
        }

        @Override
        public boolean isAcknowledged() {
            return acknowledged.get();
        }

        @Override
        public String toString() {
            return "MqttDelivery{" + message + (message.qos() == MqttQos.AT_MOST_ONCE ? "" : acknowledged.get()
                    ? ", acknowledged" : ", not acknowledged") + "}";
        }
    }
}
