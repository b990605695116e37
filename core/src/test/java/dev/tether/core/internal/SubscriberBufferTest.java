package dev.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The per-subscriber buffer behind {@code lifecycle()} and {@code sessions()}: demand, order, the end after the rest. */
class SubscriberBufferTest {

    private final AtomicReference<SubscriberBuffer<Integer>> holder = new AtomicReference<>();
    private final AtomicInteger cancels = new AtomicInteger();

    /** Without a bound that matters: the tests of order and demand under concurrency must never drop. */
    private Flux<Integer> flux() {
        return flux(Integer.MAX_VALUE, false);
    }

    /** With a marker, it is the negative count of the dropped values. */
    private Flux<Integer> flux(int bound, boolean marks) {
        Publisher<Integer> source = s -> {
            SubscriberBuffer<Integer> b = new SubscriberBuffer<>(s, bound) {
                @Override
                void onCancel() {
                    cancels.incrementAndGet();
                }

                @Override
                @org.jspecify.annotations.Nullable Integer marker(long count) {
                    return marks ? (int) -count : null;
                }
            };
            holder.set(b);
            b.start();
        };
        return Flux.from(source);
    }

    @Test
    void deliversOnlyWhatWasRequestedAndKeepsTheRestInOrder() {
        StepVerifier.create(flux(), 0)
                .then(() -> {
                    for (int i = 0; i < 1000; i++) {
                        holder.get().next(i);
                    }
                })
                .expectNoEvent(Duration.ofMillis(10))
                .thenRequest(2)
                .expectNext(0, 1)
                .expectNoEvent(Duration.ofMillis(10))
                .thenRequest(997)
                .expectNextCount(997)
                .then(() -> holder.get().complete())
                .expectNoEvent(Duration.ofMillis(10))
                .thenRequest(1)
                .expectNext(999)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aSubscriberWithDemandGetsValuesAtOnceAndTheEndAfterThem() {
        StepVerifier.create(flux(), 2)
                .then(() -> holder.get().next(1))
                .expectNext(1)
                .then(() -> {
                    holder.get().next(2);
                    holder.get().next(3);
                    holder.get().complete();
                })
                .expectNext(2)
                .expectNoEvent(Duration.ofMillis(10))
                .thenRequest(1)
                .expectNext(3)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anErrorComesAfterWhatWasBuffered() {
        IllegalStateException boom = new IllegalStateException("boom");
        StepVerifier.create(flux(), 0)
                .then(() -> {
                    holder.get().next(1);
                    holder.get().error(boom);
                    holder.get().next(2);
                })
                .thenRequest(5)
                .expectNext(1)
                .expectErrorMatches(e -> e == boom)
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aCancelledSubscriberGetsNothingMoreAndTheOwnerIsToldOnce() {
        StepVerifier.create(flux(), 1)
                .then(() -> holder.get().next(1))
                .expectNext(1)
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        holder.get().next(2);
        holder.get().complete();
        holder.get().cancel();
        assertThat(holder.get().isCancelled()).isTrue();
        assertThat(cancels).hasValue(1);
    }

    @Test
    void valuesFromOneProducerThreadAndRequestsFromAnotherArriveInOrder() throws Exception {
        int count = 100_000;
        Thread[] producer = new Thread[1];
        StepVerifier.create(flux().limitRate(7), 0)
                .then(() -> {
                    producer[0] = new Thread(() -> {
                        for (int i = 0; i < count; i++) {
                            holder.get().next(i);
                        }
                        holder.get().complete();
                    });
                    producer[0].start();
                })
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(() -> IntStream.range(0, count).iterator())
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        producer[0].join(10_000);
    }

    @Test
    void aSlowSubscriberOfAFastProducerGetsOrderedValuesAndMarkersThatAccountForEveryDrop() throws Exception {
        int count = 100_000;
        // Not a copy-on-write list: a subscriber that keeps pace records tens of thousands of values, and copying the
        // whole list on each made the test quadratic (it timed out once on a loaded machine, the buffer innocent).
        java.util.List<Integer> received = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        Thread[] producer = new Thread[1];
        StepVerifier.create(flux(64, true).limitRate(7), 0)
                .then(() -> {
                    producer[0] = new Thread(() -> {
                        for (int i = 0; i < count; i++) {
                            holder.get().next(i);
                        }
                        holder.get().complete();
                    });
                    producer[0].start();
                })
                .thenRequest(Long.MAX_VALUE)
                .recordWith(() -> received)
                .thenConsumeWhile(v -> true)
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        producer[0].join(10_000);
        long delivered = received.stream().filter(v -> v >= 0).count();
        long dropped = -received.stream().filter(v -> v < 0).mapToLong(Integer::longValue).sum();
        assertThat(delivered + dropped).isEqualTo(count);
        assertThat(received.get(received.size() - 1)).isEqualTo(count - 1);
        int last = -1;
        for (int v : received) {
            if (v >= 0) {
                assertThat(v).isGreaterThan(last);
                last = v;
            }
        }
        assertThat(holder.get().waiting()).isZero();
    }

    @Test
    void beyondTheBoundTheOldestGoAndAMarkerSaysHowMany() {
        StepVerifier.create(flux(3, true), 0)
                .then(() -> {
                    for (int i = 0; i < 10; i++) {
                        holder.get().next(i);
                    }
                    assertThat(holder.get().waiting()).isEqualTo(3);
                })
                .thenRequest(2)
                .expectNext(-7, 7)
                .then(() -> holder.get().next(10))
                .then(() -> holder.get().next(11))
                .then(() -> holder.get().complete())
                .thenRequest(10)
                .expectNext(-1, 9, 10, 11)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(holder.get().waiting()).isZero();
    }

    @Test
    void withoutAMarkerTheOldestGoSilently() {
        StepVerifier.create(flux(2, false), 0)
                .then(() -> {
                    for (int i = 0; i < 5; i++) {
                        holder.get().next(i);
                    }
                    holder.get().complete();
                })
                .thenRequest(10)
                .expectNext(3, 4)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aBoundBelowOneIsRefused() {
        StepVerifier.create(flux(0, false))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("at least 1"))
                .verify(Duration.ofSeconds(5));
    }
}
