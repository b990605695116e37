package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.scheduler.VirtualTimeScheduler;

/** lifecycle() follows its subscriber's demand and keeps a bounded number of events for one that does not request. */
class LifecycleDemandTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final ScriptedConnector connector = new ScriptedConnector();

    /** Requests nothing until told to. */
    private static final class Idle extends BaseSubscriber<LifecycleEvent> {
        final List<LifecycleEvent> received = new CopyOnWriteArrayList<>();
        volatile boolean completed;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            // no demand yet
        }

        @Override
        protected void hookOnNext(LifecycleEvent value) {
            received.add(value);
        }

        @Override
        protected void hookOnComplete() {
            completed = true;
        }
    }

    @Test
    void aSubscriberThatDoesNotRequestKeepsAtMostTheBoundAndLearnsHowManyWereDropped() {
        ResilientConnection<ScriptedConnector.Session> c = ResilientConnection.builder(connector)
                .endpoint(Endpoint.of("tcp://127.0.0.1:1"))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).multiplier(1.0)
                        .maxDelay(Duration.ofMillis(100)).jitter(Jitter.NONE).unlimited().build())
                .scheduler(vts).build();
        Idle slow = new Idle();
        List<LifecycleEvent> all = new CopyOnWriteArrayList<>();
        c.lifecycle().subscribe(slow);
        c.lifecycle().subscribe(all::add);
        c.start();
        vts.advanceTimeBy(Duration.ofSeconds(100)); // about a thousand failed attempts, several events each
        assertThat(all.size()).isGreaterThan(3 * ResilientConnection.LIFECYCLE_BUFFER);
        assertThat(slow.received).isEmpty();

        slow.request(1);
        LifecycleEvent first = slow.received.get(0);
        assertThat(first).isInstanceOfSatisfying(LifecycleEvent.Notice.class, n -> {
            assertThat(n.kind()).isEqualTo(ResilientConnection.EVENTS_DROPPED_NOTICE);
            // every event the fast subscriber saw, but the last LIFECYCLE_BUFFER, was dropped for the slow one
            assertThat(n.details().toString()).startsWith((all.size() - ResilientConnection.LIFECYCLE_BUFFER) + " lifecycle events were dropped");
        });
        slow.request(Long.MAX_VALUE);
        assertThat(slow.received.subList(1, slow.received.size()))
                .containsExactlyElementsOf(all.subList(all.size() - ResilientConnection.LIFECYCLE_BUFFER, all.size()));

        // with demand, nothing is dropped any more, and the end comes after the last event
        c.abort().block(Duration.ofSeconds(5));
        assertThat(slow.completed).isTrue();
        assertThat(slow.received.get(slow.received.size() - 1)).isInstanceOf(LifecycleEvent.Closed.class);
        assertThat(slow.received.subList(1 + ResilientConnection.LIFECYCLE_BUFFER, slow.received.size()))
                .containsExactlyElementsOf(all.subList(all.size() - (slow.received.size() - 1 - ResilientConnection.LIFECYCLE_BUFFER), all.size()));
    }
}
