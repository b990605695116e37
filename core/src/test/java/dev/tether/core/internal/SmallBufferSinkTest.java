package dev.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.test.StepVerifier;

/** The per-subscriber buffer behind {@code lifecycle()} and {@code sessions()}: demand, order, the end after the rest. */
class SmallBufferSinkTest {

    private final AtomicReference<SmallBufferSink<Integer>> holder = new AtomicReference<>();

    private Flux<Integer> flux() {
        return Flux.create(s -> holder.set(new SmallBufferSink<>(s)), FluxSink.OverflowStrategy.IGNORE);
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
    void aCancelledSubscriberGetsNothingMore() {
        StepVerifier.create(flux(), 1)
                .then(() -> holder.get().next(1))
                .expectNext(1)
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        holder.get().next(2);
        holder.get().complete();
        assertThat(holder.get().sink().isCancelled()).isTrue();
    }
}
