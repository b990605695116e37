package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSessionStore;
import dev.tether.mqtt.MqttSessionStoreException;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.PublishResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * What {@link OutboundPublishes} tells the client's {@link MqttSessionStore}: each QoS 1 and 2 publish from
 * acceptance to its end, its packet id and its PUBREL state. A publish the store cannot keep fails; a later
 * step the store cannot record is logged and the client goes on (the message is still sent; only its survival
 * of a crash is in doubt).
 *
 * <p>Not thread-safe: used under the client's monitor.
 */
final class SessionStorage {

    private static final Logger log = LoggerFactory.getLogger(SessionStorage.class);

    /** A store that keeps nothing: the client without a store. */
    static final SessionStorage NONE = new SessionStorage(MqttSessionStore.inMemory());

    private final MqttSessionStore store;

    SessionStorage(MqttSessionStore store) {
        this.store = store;
    }

    /** @return the store */
    MqttSessionStore store() {
        return store;
    }

    /**
     * Stores a publish about to wait or be sent.
     *
     * @return false if it could not be stored: its sink fails (through {@code after})
     */
    boolean accept(OutboundPublishes.Publish op, List<Runnable> after) {
        if (op.message.qos() == MqttQos.AT_MOST_ONCE || op.storeKey != 0) {
            return true; // nothing to keep, or stored already (before the client's monitor was taken)
        }
        try {
            op.storeKey = store.add(op.message);
            return true;
        } catch (RuntimeException e) {
            RuntimeException failure = e instanceof MqttSessionStoreException ? e
                    : new MqttSessionStoreException(null, "the publish to '" + op.message.topic()
                    + "' could not be stored: " + e, e);
            after.add(() -> op.fail(failure));
            return false;
        }
    }

    /** The publish got its packet id (or lost it: 0); called before it is flushed. */
    void sent(OutboundPublishes.Publish op) {
        if (op.storeKey != 0) {
            try {
                store.sent(op.storeKey, op.packetId, op.message.qos());
            } catch (RuntimeException e) {
                log.warn("the session store could not record packet id {} of the publish to '{}': {}", op.packetId,
                        op.message.topic(), e.toString());
            }
        }
    }

    /** PUBREC came; called before PUBREL is written. */
    void released(OutboundPublishes.Publish op) {
        if (op.storeKey != 0) {
            try {
                store.released(op.storeKey);
            } catch (RuntimeException e) {
                log.warn("the session store could not record the PUBREL of packet id {}: {}", op.packetId, e.toString());
            }
        }
    }

    /** The publish is over (acknowledged, refused, dropped or cancelled). */
    void finished(OutboundPublishes.Publish op) {
        if (op.storeKey != 0) {
            try {
                store.remove(op.storeKey);
            } catch (RuntimeException e) {
                log.warn("the session store could not remove the finished publish to '{}': {}", op.message.topic(),
                        e.toString());
            }
            op.storeKey = 0;
        }
    }

    /**
     * @return the next page of the publishes the store held without a packet id (see
     *         {@link MqttSessionStore#waiting}); empty if the store cannot read it (logged: they stay in the store
     *         for the next start)
     */
    List<OutboundPublishes.Publish> waiting(long afterKey, long upToKey, int max) {
        try {
            return restored(store.waiting(afterKey, upToKey, max));
        } catch (RuntimeException e) {
            log.warn("the session store could not read the publishes it holds after key {}; they stay in it for the "
                    + "next start: {}", afterKey, e.toString());
            return List.of();
        }
    }

    /** The broker granted the filter's subscription. */
    void subscribed(SubscriptionRegistry.Filter f) {
        try {
            MqttSubscription.Builder b = MqttSubscription.builder(f.filter).qos(f.qos).noLocal(f.noLocal)
                    .retainAsPublished(f.retainAsPublished);
            if (f.identifier > 0) {
                b.subscriptionIdentifier(f.identifier);
            }
            store.subscribed(b.build());
        } catch (RuntimeException e) {
            log.warn("the session store could not record the subscription to '{}': {}", f.filter, e.toString());
        }
    }

    /** The filter's subscription is gone (left, or refused by the broker). */
    void unsubscribed(String filter) {
        try {
            store.unsubscribed(filter);
        } catch (RuntimeException e) {
            log.warn("the session store could not remove the subscription to '{}': {}", filter, e.toString());
        }
    }

    /**
     * @param stored what the store held when it was opened
     * @return the publishes to restore, their sinks ignoring the outcome (their callers are gone); failures are
     *         logged
     */
    static List<OutboundPublishes.Publish> restored(List<MqttSessionStore.StoredPublish> stored) {
        List<OutboundPublishes.Publish> out = new ArrayList<>(stored.size());
        for (MqttSessionStore.StoredPublish s : stored) {
            AtomicReference<MonoSink<PublishResult>> sink = new AtomicReference<>();
            Mono.<PublishResult>create(sink::set).subscribe(r -> { }, e -> log.warn(
                    "a publish to '{}' restored from the session store failed: {}", s.message().topic(), e.toString()));
            OutboundPublishes.Publish op = new OutboundPublishes.Publish(s.message(),
                    java.util.Objects.requireNonNull(sink.get(), "sink"));
            op.storeKey = s.key();
            op.packetId = s.packetId();
            op.released = s.released();
            out.add(op);
        }
        return out;
    }
}
