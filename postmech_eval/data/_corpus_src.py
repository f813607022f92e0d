"""Plain everyday English prose for entropy-neuron ablation (METHODS §5), written here.

Two sources: hand-written paragraphs, and seeded paragraph frames whose slots (names,
places, foods, days ...) are filled from small lists. Both are split 80/20 with a fixed
seed. The text deliberately avoids the statement datasets' facts, so measuring entropy on
it does not test fact recall.
"""

from __future__ import annotations

import random

TEST_FRACTION = 0.2

PARAGRAPHS = [
    "The bus was late again this morning, so I walked the last part of the way. The air was cool and the streets were still quiet.",
    "My grandmother keeps a small garden behind her house. Every summer she grows tomatoes, beans and more zucchini than anyone can eat.",
    "We spent the afternoon cleaning out the garage. By evening we had filled six boxes with things to give away.",
    "The library near my office has a reading room with tall windows. On rainy days it is the calmest place in the neighborhood.",
    "After dinner, the children played cards at the kitchen table while the adults washed the dishes and talked about the week.",
    "The new bakery on the corner opens at seven. By eight there is usually a line of people waiting for warm bread.",
    "I tried to fix the squeaky door with a little oil. It worked for a day, and then the squeak came back louder than before.",
    "Our neighbor walks his old dog twice a day. The dog moves slowly now, but he still wags his tail at everyone he meets.",
    "The train ride along the coast takes about two hours. If you sit on the left side, you can watch the waves most of the way.",
    "It snowed overnight, and by morning the whole street was white. Nobody drove to work, and the kids built a snowman by lunch.",
    "She decided to learn the guitar this year. She practices for twenty minutes every evening, even when she is tired.",
    "The meeting ran longer than planned because everyone had questions about the new schedule. In the end we agreed to try it for a month.",
    "He packed a sandwich, an apple and a bottle of water before setting off on the hike. The trail was steep but the view was worth it.",
    "The market on Saturday was busy as usual. Farmers sold fresh eggs, cheese, honey and baskets of strawberries.",
    "When the power went out, we lit a few candles and told stories until the lights came back an hour later.",
    "My brother is painting his bedroom a pale green. He says it makes the small room feel bigger and brighter.",
    "The museum was quiet on a weekday afternoon. We spent most of our time in the room with old maps and ship models.",
    "Every Friday our office orders pizza for lunch. It is a small thing, but people look forward to it all week.",
    "The river was higher than usual after the storm. Children threw sticks from the bridge and watched them race away.",
    "I finally finished the book I had been reading for months. The ending surprised me, and I want to read it again.",
    "The cat sat by the window all morning, watching birds in the tree outside. Now and then her tail twitched with excitement.",
    "We planted a small apple tree in the yard last spring. This year it gave us exactly three apples, and we shared them carefully.",
    "The kitchen smelled of cinnamon because my father was baking bread. He lets the dough rise twice before it goes into the oven.",
    "Traffic was heavy on the way home, so we turned on the radio and listened to an old comedy show.",
    "The school held a small fair with games, music and a table of homemade cakes. The money went toward new books for the library.",
    "On clear nights you can see many stars from the hill behind the village. Some people bring blankets and stay for hours.",
    "The café by the station has only four tables, but the coffee is excellent and the owner remembers everyone's order.",
    "My phone battery died halfway through the day, and I realized how often I check it without thinking.",
    "The park was full of families on the first warm weekend of spring. Someone was flying a bright red kite near the pond.",
    "Our team lost the match by one goal, but everyone agreed it was the best game we had played all season.",
    "She writes a short list each morning of three things she wants to finish. Crossing them off makes the day feel lighter.",
    "The old clock in the hallway chimes every hour. Guests find it loud, but we hardly notice it anymore.",
    "We got lost on the way to the wedding and arrived just as the music started. Nobody seemed to mind.",
    "The bike needed new brakes, so I took it to the small repair shop near the bridge. It was ready the next afternoon.",
    "Rain tapped on the roof all night. In the morning the garden looked greener and the air smelled fresh.",
    "The children made a fort out of chairs and blankets in the living room and refused to come out for dinner.",
    "He keeps a notebook in his pocket to write down ideas. Most of them are small, but a few have become real projects.",
    "At the beach we found smooth stones, a broken shell and a crab that ran sideways into the waves.",
    "The laundry dried quickly in the sun and wind. Folding it, I found a sock that had been missing for weeks.",
    "Our street holds a cleanup day every autumn. Neighbors rake leaves, fix fences and share soup at the end of the day.",
    "The violin teacher asked her students to play slowly at first. Speed, she said, comes after the notes are right.",
    "I made soup from the vegetables left in the fridge. It was not beautiful, but it was warm and filling.",
    "The hotel room was small but clean, with a window that looked out over a row of colorful houses.",
    "My friend moved to a new apartment on the fourth floor. There is no elevator, so we carried the sofa up the stairs together.",
    "During the holidays the town square is lit with strings of small lights. People stop to take pictures on their way home.",
    "The puppy chewed one of my shoes while I was at work. It was hard to stay angry when he looked at me like that.",
    "We stayed up late finishing a puzzle of a mountain lake. The last piece was, of course, under the table.",
    "The pharmacy closes early on Sundays, so I always make sure I have what I need by Saturday evening.",
    "Our flight was delayed by three hours. We ate noodles at the airport and watched planes take off in the rain.",
    "The teacher read a story aloud at the end of the day. Even the noisiest students listened quietly until the last page.",
]

_FRAMES = [
    "On {day} morning, {name} went to {place} to buy {food}. It was {weather}, so {pron} took {item}. On the way back, {pron} stopped to talk with {name2} for a while.",
    "{name} has been learning to {hobby} for a few months. At first it felt difficult, but now {pron} practices every {time}. {name2} says the progress is easy to hear and see.",
    "The weather on {day} was {weather}. {name} stayed near {place} most of the afternoon and read a book. Later {pron} cooked {food} for dinner and went to bed early.",
    "{name} and {name2} met at {place} after work. They talked about their plans for the weekend and shared a plate of {food}. It was {weather} when they finally walked home.",
    "Every {time}, {name} walks the family {animal} around the block. The {animal} likes to stop at every tree. Neighbors often wave, and {name} waves back.",
    "{name} forgot {item} at {place} on {day}. {pron_cap} called the next morning, and someone had kept it safe behind the counter. {name} was very grateful.",
    "For {name2}'s birthday, {name} baked a cake and decorated it with {sweet}. The party was small, just a few friends at {place}, but everyone stayed until late.",
    "It was {weather} on {day}, so the class went to {place} instead of staying inside. The teacher asked everyone to write down three things they noticed.",
    "{name} started a new job at {place} last week. The first days were busy, but the people are friendly. At lunch {pron} usually eats {food} with {name2}.",
    "When {name} was a child, {pron} spent summers near {place}. {pron_cap} still remembers the smell of {food} and the sound of rain on the roof.",
    "The shop at {place} had a sale on {day}. {name} bought {item} and a bag of {food}, then hurried home before it became too {weather_short}.",
    "{name} likes to {hobby} in the {time_of_day}. {pron_cap} says it clears the mind and makes the rest of the day feel calmer.",
]
_NAMES = [
    ("Anna", "she"),
    ("Ben", "he"),
    ("Clara", "she"),
    ("David", "he"),
    ("Elena", "she"),
    ("Farid", "he"),
    ("Grace", "she"),
    ("Hugo", "he"),
    ("Irene", "she"),
    ("Jonas", "he"),
    ("Keiko", "she"),
    ("Leo", "he"),
    ("Maya", "she"),
    ("Noah", "he"),
    ("Olga", "she"),
    ("Pablo", "he"),
    ("Rosa", "she"),
    ("Samir", "he"),
]
_SLOTS = {
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "place": [
        "the market",
        "the library",
        "the park",
        "the bakery",
        "the station",
        "the harbor",
        "the old bridge",
        "the community center",
        "the corner shop",
        "the town square",
    ],
    "food": [
        "fresh bread",
        "apples",
        "cheese",
        "vegetable soup",
        "strawberries",
        "rice and beans",
        "pancakes",
        "roasted potatoes",
        "a lemon cake",
        "noodles",
    ],
    "weather": [
        "cold and windy",
        "warm and sunny",
        "grey and rainy",
        "foggy",
        "bright but chilly",
        "hot and humid",
    ],
    "sweet": ["strawberries", "chocolate chips", "fresh cherries", "little sugar stars", "slices of peach"],
    "weather_short": ["cold", "dark", "hot", "wet"],
    "item": [
        "an umbrella",
        "a warm scarf",
        "a pair of gloves",
        "a small notebook",
        "a water bottle",
        "a paper map",
    ],
    "hobby": [
        "play the piano",
        "paint with watercolors",
        "swim",
        "bake bread",
        "knit",
        "run",
        "speak Italian",
        "play chess",
        "draw portraits",
    ],
    "time": ["evening", "morning", "weekend", "afternoon"],
    "time_of_day": ["early morning", "late evening", "afternoon"],
    "animal": ["dog", "puppy", "old dog", "beagle"],
}


def _framed(rng: random.Random, n_per_frame: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for frame in _FRAMES:
        made = 0
        for _ in range(1000):
            if made >= n_per_frame:
                break
            (name, pron), (name2, _) = rng.sample(_NAMES, 2)
            fill = {k: rng.choice(v) for k, v in _SLOTS.items()}
            text = frame.format(name=name, name2=name2, pron=pron, pron_cap=pron.capitalize(), **fill)
            if text not in seen:
                seen.add(text)
                out.append(text)
                made += 1
    return out


def corpus_rows(seed: int) -> list[dict]:
    """Rows {"id", "text", "source", "split"}; deterministic in `seed`."""
    rng = random.Random(f"{seed}:corpus")
    rows: list[dict] = []
    for source, texts in (("handwritten", PARAGRAPHS), ("framed", _framed(rng, 15))):
        idx = list(range(len(texts)))
        rng.shuffle(idx)
        test = set(idx[: round(len(texts) * TEST_FRACTION)])
        for i, text in enumerate(texts):
            rows.append(
                {
                    "id": f"{source}-{i:04d}",
                    "text": text,
                    "source": source,
                    "split": "test" if i in test else "train",
                }
            )
    return rows
