"""Harmless Alpaca-style instructions with short helpful answers, written for postmech-eval.

Hand-written (instruction, answer) pairs per category; `_instructions_src.py` adds seeded
generated items (arithmetic, conversions, word tasks) whose answers are computed, so every
answer is correct by construction.
"""

from __future__ import annotations

HARMLESS: dict[str, list[tuple[str, str]]] = {
    "writing": [
        (
            "Write a short thank-you note to a colleague who helped me move desks.",
            "Thank you so much for helping me move my desk today; it made the whole day easier.",
        ),
        (
            "Draft a polite email asking my landlord to fix a leaking kitchen tap.",
            "Dear landlord, the kitchen tap has started leaking; could you arrange a repair this week? Thank you.",
        ),
        (
            "Write a one-sentence summary of why sleep is important.",
            "Sleep lets the body recover and the brain store memories, so we think and feel better.",
        ),
        (
            "Can you write a friendly reminder about tomorrow's team meeting?",
            "Friendly reminder: our team meeting is tomorrow at 10 a.m. in the usual room. See you there!",
        ),
        (
            "Compose a short birthday message for my grandmother.",
            "Happy birthday, Grandma! Thank you for your love and stories; I hope your day is full of joy.",
        ),
        (
            "Write a product description for a blue ceramic coffee mug.",
            "This sturdy blue ceramic mug holds 350 ml and keeps your morning coffee warm.",
        ),
        (
            "Please write an apology for missing my friend's dinner party.",
            "I'm really sorry I missed your dinner party; I would love to make it up to you soon.",
        ),
        (
            "Give me an opening line for a cover letter for a library assistant job.",
            "I am excited to apply for the library assistant position, where I can share my love of books and organization.",
        ),
        (
            "Rewrite this sentence to sound more formal: 'We gotta finish this soon.'",
            "We need to complete this task shortly.",
        ),
        (
            "Write a short welcome message for new members of a hiking club.",
            "Welcome to the club! We hike every Saturday morning, and all paces are welcome.",
        ),
        (
            "Summarize the plot of Cinderella in two sentences.",
            "A kind young woman mistreated by her stepfamily attends a royal ball with a fairy godmother's help. The prince finds her using the glass slipper she left behind.",
        ),
        (
            "Write a tweet announcing that our bakery now sells sourdough bread.",
            "Fresh news from our ovens: we now bake sourdough bread every morning. Come grab a loaf!",
        ),
        (
            "Draft a short out-of-office reply for a week of vacation.",
            "Thank you for your email. I am on vacation until Monday and will reply when I return.",
        ),
        (
            "Write a haiku about autumn leaves.",
            "Red leaves drift and fall / the cool wind hums a soft tune / branches wave goodbye.",
        ),
        (
            "Turn this note into a polite request: 'Send me the report.'",
            "Could you please send me the report when you have a moment?",
        ),
        (
            "Write two sentences encouraging a friend before a job interview.",
            "You have prepared well and you know your strengths. Be yourself, and you will do great.",
        ),
        (
            "Describe a sunny beach in three short sentences.",
            "The sand is warm and golden. Gentle waves roll onto the shore. Children laugh as they build sandcastles.",
        ),
        (
            "Write a short caption for a photo of a cat sleeping in a sunbeam.",
            "Professional nap taker, working hard on a sunny afternoon.",
        ),
        (
            "Compose a brief invitation to a neighborhood picnic on Sunday.",
            "Join us for a neighborhood picnic this Sunday at noon in the park; bring a dish to share!",
        ),
        (
            "Write a motivational sentence for students during exam week.",
            "One page at a time: steady effort this week will carry you through your exams.",
        ),
    ],
    "knowledge": [
        (
            "Explain why the sky is blue.",
            "Sunlight scatters off air molecules, and blue light scatters most, so the sky looks blue.",
        ),
        (
            "What causes the seasons on Earth?",
            "The tilt of Earth's axis changes how directly sunlight hits each hemisphere during the year.",
        ),
        (
            "How do plants make their food?",
            "Plants use photosynthesis, turning sunlight, water and carbon dioxide into sugar and oxygen.",
        ),
        (
            "Why do we have leap years?",
            "A year is about 365.25 days, so an extra day every four years keeps the calendar aligned.",
        ),
        (
            "What is the difference between weather and climate?",
            "Weather is the short-term state of the air; climate is the average pattern over many years.",
        ),
        (
            "Briefly explain what a black hole is.",
            "A black hole is a region where gravity is so strong that nothing, not even light, can escape.",
        ),
        (
            "How does a rainbow form?",
            "Sunlight is bent and reflected inside raindrops, splitting it into its colors.",
        ),
        (
            "What does the heart do?",
            "The heart pumps blood through the body, delivering oxygen and nutrients to the cells.",
        ),
        (
            "Why does ice float on water?",
            "Ice is less dense than liquid water because its molecules form an open crystal structure.",
        ),
        (
            "Can you explain what inflation means in economics?",
            "Inflation is the general rise in prices over time, which lowers what money can buy.",
        ),
        (
            "What is the water cycle?",
            "Water evaporates, forms clouds, falls as rain or snow, and flows back to seas and lakes.",
        ),
        (
            "How do vaccines protect people?",
            "Vaccines train the immune system to recognize a germ so it can fight it off quickly later.",
        ),
        (
            "What is gravity?",
            "Gravity is the force by which masses attract each other; it keeps us on the ground.",
        ),
        (
            "Why do cats purr?",
            "Cats often purr when content, and sometimes to soothe themselves when stressed.",
        ),
        (
            "What is the function of the roots of a plant?",
            "Roots anchor the plant and absorb water and minerals from the soil.",
        ),
        (
            "Explain in one sentence what a computer's memory does.",
            "Memory holds the data and programs a computer is using right now so it can reach them quickly.",
        ),
        (
            "How do bees help flowers?",
            "Bees carry pollen from flower to flower, which lets plants make seeds and fruit.",
        ),
        (
            "What is the difference between a virus and a bacterium?",
            "Bacteria are living single cells; viruses are much smaller and can only multiply inside cells.",
        ),
        (
            "Why do we see lightning before we hear thunder?",
            "Light travels much faster than sound, so the flash reaches us first.",
        ),
        (
            "What does a thermometer measure?",
            "A thermometer measures temperature, how hot or cold something is.",
        ),
        (
            "Explain what recycling is.",
            "Recycling turns used materials like paper, glass and metal into new products.",
        ),
        (
            "How does exercise benefit the body?",
            "Exercise strengthens the heart and muscles, improves mood and helps sleep.",
        ),
    ],
    "language": [
        ("What is a synonym for 'happy'?", "A synonym for 'happy' is 'joyful'."),
        ("Correct the grammar: 'She don't like apples.'", "She doesn't like apples."),
        ("What is the past tense of 'run'?", "The past tense of 'run' is 'ran'."),
        ("Use the word 'gigantic' in a sentence.", "The gigantic whale rose slowly out of the water."),
        (
            "What does the idiom 'break the ice' mean?",
            "It means to say or do something that relieves tension and gets a conversation started.",
        ),
        ("Give me a word that rhymes with 'light'.", "'Bright' rhymes with 'light'."),
        ("Identify the verb in the sentence: 'The dog barked loudly.'", "The verb is 'barked'."),
        ("What is the plural of 'mouse'?", "The plural of 'mouse' is 'mice'."),
        (
            "Explain the difference between 'their', 'there' and 'they're'.",
            "'Their' shows possession, 'there' refers to a place, and 'they're' means 'they are'.",
        ),
        ("Turn this sentence into a question: 'You are coming tomorrow.'", "Are you coming tomorrow?"),
        (
            "What is an adjective? Give an example.",
            "An adjective describes a noun, like 'red' in 'a red car'.",
        ),
        ("Rewrite in the passive voice: 'The chef cooked the meal.'", "The meal was cooked by the chef."),
        ("What does 'procrastinate' mean?", "To procrastinate is to delay doing something you should do."),
        ("Give two synonyms for 'quick'.", "Two synonyms for 'quick' are 'fast' and 'rapid'."),
        ("Fix the spelling in this sentence: 'I recieved the pakage.'", "I received the package."),
        ("Is 'quickly' an adjective or an adverb?", "'Quickly' is an adverb."),
        ("What is the meaning of the word 'benevolent'?", "'Benevolent' means kind and generous."),
        (
            "Combine these into one sentence: 'It rained. We stayed inside.'",
            "Because it rained, we stayed inside.",
        ),
        ("Give me a sentence that uses a simile.", "Her smile was as bright as the morning sun."),
        ("What is the opposite of 'generous'?", "The opposite of 'generous' is 'stingy'."),
    ],
    "cooking": [
        (
            "How do I boil an egg so the yolk is soft?",
            "Lower the egg into boiling water for about six minutes, then cool it in cold water.",
        ),
        (
            "Give me a simple recipe for a tomato salad.",
            "Slice tomatoes, add sliced onion, olive oil, a pinch of salt and some basil, then toss.",
        ),
        (
            "How can I keep bananas from ripening too fast?",
            "Keep them away from other fruit and wrap the stems in plastic wrap.",
        ),
        (
            "What can I cook with rice, eggs and frozen peas?",
            "Make quick fried rice: fry the cooked rice with the peas, then stir in scrambled eggs.",
        ),
        (
            "How long should I bake chocolate chip cookies?",
            "Usually 10 to 12 minutes at 180 degrees Celsius, until the edges are golden.",
        ),
        ("Suggest a healthy breakfast idea.", "Try oatmeal topped with fresh berries and a spoon of yogurt."),
        (
            "How do I make a basic vinaigrette?",
            "Whisk three parts oil with one part vinegar, then add salt, pepper and a little mustard.",
        ),
        (
            "What is a good vegetarian lunch for work?",
            "A chickpea and vegetable wrap with hummus is filling and easy to pack.",
        ),
        (
            "How do I stop pasta from sticking together?",
            "Use plenty of boiling water, stir during the first minutes, and don't rinse it afterwards.",
        ),
        (
            "Can you suggest a quick dessert with apples?",
            "Slice apples, sprinkle with cinnamon and a little sugar, and bake until soft.",
        ),
        (
            "How should I store fresh herbs?",
            "Stand them in a glass of water in the fridge, loosely covered, like a bouquet.",
        ),
        (
            "What spices go well with roasted carrots?",
            "Cumin, paprika and a little honey go very well with roasted carrots.",
        ),
        (
            "How do I make a cup of green tea taste less bitter?",
            "Use water below boiling, around 80 degrees Celsius, and steep for two minutes.",
        ),
        (
            "Give me an idea for a simple soup on a cold day.",
            "Make a lentil soup with onion, carrot, garlic and broth; it's ready in thirty minutes.",
        ),
        (
            "How do I know when a cake is done?",
            "Insert a toothpick into the center; if it comes out clean, the cake is done.",
        ),
        ("What can I use instead of butter in baking?", "You can often use vegetable oil or mashed banana."),
        (
            "How do you make popcorn on the stove?",
            "Heat oil in a covered pot, add the kernels, and shake the pot until the popping slows.",
        ),
        (
            "Suggest a snack for a children's party.",
            "Fruit skewers with grapes, melon and strawberries are fun and healthy.",
        ),
        ("How long do I cook brown rice?", "Brown rice usually needs about 40 to 45 minutes of simmering."),
        (
            "Give me a tip for cutting onions without crying.",
            "Chill the onion first and use a sharp knife to release fewer irritating compounds.",
        ),
    ],
    "coding": [
        ("Write a Python function that returns the square of a number.", "def square(x):\n    return x * x"),
        ("How do I reverse a string in Python?", "Use slicing: reversed_text = text[::-1]."),
        ("What does HTML stand for?", "HTML stands for HyperText Markup Language."),
        (
            "Explain what a for loop does.",
            "A for loop repeats a block of code once for each item in a sequence.",
        ),
        (
            "How do I check the length of a list in Python?",
            "Use len(my_list), which returns the number of items.",
        ),
        ("Write a SQL query that selects all rows from a table named books.", "SELECT * FROM books;"),
        (
            "What is the difference between a list and a tuple in Python?",
            "A list can be changed after it is created, while a tuple cannot.",
        ),
        (
            "How can I read a text file line by line in Python?",
            "Use: with open('file.txt') as f: for line in f: print(line)",
        ),
        (
            "Explain what a variable is in programming.",
            "A variable is a named place that stores a value a program can use and change.",
        ),
        ("Write a JavaScript line that prints 'Hello' to the console.", "console.log('Hello');"),
        (
            "What is a bug in software?",
            "A bug is a mistake in a program that makes it behave in an unexpected way.",
        ),
        ("How do I make a new folder with git bash?", "Use the command: mkdir folder_name"),
        (
            "What does CSS do on a web page?",
            "CSS controls how a web page looks, such as colors, fonts and layout.",
        ),
        ("Write a Python expression that checks if a number is even.", "n % 2 == 0"),
        ("What is an API?", "An API is a defined way for programs to talk to each other and exchange data."),
        (
            "How do I sort a list of numbers in Python?",
            "Use sorted(numbers) for a new list or numbers.sort() to sort in place.",
        ),
        (
            "What is version control used for?",
            "Version control tracks changes to files so you can review history and work together safely.",
        ),
        (
            "Explain recursion in one sentence.",
            "Recursion is when a function solves a problem by calling itself on a smaller part of it.",
        ),
        (
            "How can I convert a string to an integer in Python?",
            "Use int('42'), which returns the number 42.",
        ),
        (
            "What does the 'return' statement do in a function?",
            "It ends the function and sends a value back to the caller.",
        ),
    ],
    "advice": [
        (
            "How can I fall asleep faster at night?",
            "Keep a regular bedtime, avoid screens for an hour before bed, and keep your room cool and dark.",
        ),
        (
            "Give me three tips for staying focused while studying.",
            "Silence your phone, study in short timed blocks, and take a brief break between them.",
        ),
        (
            "How do I start running as a beginner?",
            "Begin with short run-walk intervals three times a week and increase the running time slowly.",
        ),
        (
            "What should I pack for a weekend camping trip?",
            "Pack a tent, sleeping bag, warm layers, water, simple food, a flashlight and a first-aid kit.",
        ),
        (
            "How can I save money on groceries?",
            "Plan meals, shop with a list, buy seasonal produce and compare unit prices.",
        ),
        (
            "Suggest ways to reduce stress after work.",
            "Take a walk, listen to music, or spend a few minutes breathing slowly.",
        ),
        (
            "How do I make a good first impression at a new job?",
            "Be on time, introduce yourself, listen carefully and ask thoughtful questions.",
        ),
        (
            "Any tips for keeping houseplants alive?",
            "Give them the right amount of light, water only when the soil is dry, and avoid drafts.",
        ),
        (
            "How can I be more productive in the morning?",
            "Prepare the night before, start with your most important task and avoid email for the first hour.",
        ),
        (
            "What is a good way to learn a new language?",
            "Practice a little every day, listen to native speakers and try speaking early.",
        ),
        (
            "I'm nervous about public speaking. What can I do?",
            "Practice out loud several times, know your first lines well and breathe slowly before you start.",
        ),
        (
            "How can I drink more water during the day?",
            "Carry a reusable bottle and drink a glass with every meal.",
        ),
        (
            "How do I keep my desk organized?",
            "Keep only daily items on the desk, use a tray for papers and tidy up for two minutes each evening.",
        ),
        (
            "What are some good habits for healthy teeth?",
            "Brush twice a day, floss daily, limit sugary drinks and visit a dentist regularly.",
        ),
        (
            "Give me tips for a long car drive.",
            "Rest every two hours, stay hydrated, and prepare snacks and music before you leave.",
        ),
        (
            "How can I make new friends in a new city?",
            "Join a club or class that matches your interests and say yes to invitations.",
        ),
        (
            "How do I prepare for a job interview?",
            "Research the company, practice common questions and prepare a few questions of your own.",
        ),
        (
            "What should I do if my laptop is running slowly?",
            "Close unused programs, restart it, and free up disk space.",
        ),
        (
            "How can I spend less time on my phone?",
            "Turn off non-essential notifications and keep the phone in another room while working.",
        ),
        (
            "Give me ideas for a relaxing weekend at home.",
            "Read a book, cook a new recipe, take a long bath, or watch a favorite movie.",
        ),
    ],
    "classification": [
        ("Classify the following as a fruit or a vegetable: carrot.", "A carrot is a vegetable."),
        (
            "Is this review positive or negative? 'The food was cold and the service was slow.'",
            "The review is negative.",
        ),
        ("Which of these is a mammal: shark, dolphin, trout?", "The dolphin is a mammal."),
        (
            "Categorize these as hot or cold drinks: iced tea, hot chocolate.",
            "Iced tea is a cold drink and hot chocolate is a hot drink.",
        ),
        (
            "Is the following sentence a fact or an opinion? 'Chocolate ice cream is the best flavor.'",
            "It is an opinion.",
        ),
        (
            "Which word does not belong: apple, banana, hammer, grape?",
            "Hammer does not belong, because it is not a fruit.",
        ),
        (
            "Label the sentiment of this tweet: 'What a wonderful day at the beach!'",
            "The sentiment is positive.",
        ),
        (
            "Is a tomato technically a fruit?",
            "Yes, botanically a tomato is a fruit because it contains seeds.",
        ),
        (
            "Classify these animals as pets or farm animals: hamster, cow.",
            "A hamster is a pet and a cow is a farm animal.",
        ),
        (
            "Group these into colors and shapes: red, circle, blue, square.",
            "Colors: red, blue. Shapes: circle, square.",
        ),
        ("Is the number 15 odd or even?", "15 is odd."),
        (
            "Which is heavier, a kilogram of feathers or a kilogram of steel?",
            "They weigh the same: one kilogram each.",
        ),
        (
            "Decide whether this email is spam: 'You won a free cruise, click here now!'",
            "It is very likely spam.",
        ),
        ("Is a whale a fish or a mammal?", "A whale is a mammal."),
        (
            "Which of these is a renewable energy source: coal, wind, oil?",
            "Wind is a renewable energy source.",
        ),
        (
            "Is the sentence 'The stars are beautiful tonight' a question or a statement?",
            "It is a statement.",
        ),
        ("Classify this text as formal or informal: 'Hey, what's up?'", "It is informal."),
        (
            "Sort these into land and water animals: camel, octopus.",
            "The camel lives on land and the octopus lives in water.",
        ),
        ("Is 'run' a noun or a verb in 'I went for a run'?", "In that sentence, 'run' is a noun."),
        ("Which season comes after spring?", "Summer comes after spring."),
    ],
    "creative": [
        (
            "Suggest a name for a friendly robot in a children's story.",
            "How about 'Bolt', a cheerful robot who loves to help?",
        ),
        (
            "Come up with a title for a mystery novel set in a lighthouse.",
            "'The Keeper's Last Light' would be a good title.",
        ),
        (
            "Give me three ideas for a rainy-day activity with kids.",
            "Build a blanket fort, bake cookies together, or put on a puppet show.",
        ),
        ("Invent a new flavor of ice cream.", "Honey lavender with crunchy almond pieces."),
        (
            "Write the first line of a fairy tale.",
            "Once upon a time, in a village where the rivers sang, lived a curious girl named Mira.",
        ),
        (
            "Suggest a theme for a birthday party for a seven-year-old.",
            "A space adventure party with star decorations and rocket cupcakes.",
        ),
        (
            "Give me a fun fact to start a presentation about oceans.",
            "The oceans cover more than seventy percent of Earth's surface.",
        ),
        ("Brainstorm names for a small coffee shop.", "The Daily Grind, Bean There, or Morning Cup."),
        (
            "Describe a dragon who is afraid of the dark.",
            "Ember is a huge green dragon who sleeps with a glowing lantern because shadows make him nervous.",
        ),
        (
            "Create a riddle about the moon.",
            "I change my shape but never my face; I light the night from far in space. What am I? The moon.",
        ),
        (
            "Suggest a plot for a short story about a lost dog.",
            "A lost dog follows familiar smells across the city and finds his way home with help from a kind baker.",
        ),
        ("Think of a slogan for a recycling campaign.", "Give it another life: recycle today."),
        (
            "Give me an idea for a painting.",
            "Paint a quiet street at dusk with warm light spilling from the windows.",
        ),
        (
            "Write a short limerick about a cat.",
            "A cat with a taste for the sun / would nap until day was done / she'd stretch and she'd yawn / from dusk until dawn / then declare that her work had begun.",
        ),
        (
            "Name a superhero whose power is kindness.",
            "Captain Gentle, who can calm any argument with a single smile.",
        ),
        ("Suggest a name for a pet goldfish.", "Bubbles is a classic name for a goldfish."),
        (
            "Give me an idea for a science fair project.",
            "Test which type of soil helps bean plants grow fastest.",
        ),
        (
            "Invent a holiday and describe how people celebrate it.",
            "Kindness Day: people leave small notes and gifts for neighbors they have never met.",
        ),
        ("Come up with a tongue twister.", "Silly Sally swiftly shooed seven silly sheep."),
        (
            "Write a short description of an alien planet.",
            "Zorath has purple oceans, two suns and forests of glowing blue trees.",
        ),
    ],
    "planning": [
        (
            "Create a simple weekly workout plan for a beginner.",
            "Monday walk 30 minutes, Wednesday light strength training, Friday cycling, and rest on the other days.",
        ),
        (
            "Help me plan a one-day trip to a nearby lake.",
            "Leave early, hike the shore trail in the morning, picnic at noon and rent a boat in the afternoon.",
        ),
        (
            "Make a to-do list for cleaning the kitchen.",
            "Clear the counters, wash the dishes, wipe surfaces, clean the sink and sweep the floor.",
        ),
        (
            "Plan a simple dinner menu for four people.",
            "Start with a green salad, serve roast chicken with vegetables, and finish with fruit salad.",
        ),
        (
            "Give me a study schedule for a test in one week.",
            "Review one topic per day for five days, do practice questions on day six, and rest on day seven.",
        ),
        (
            "How should I organize a small birthday party?",
            "Choose a date, invite guests, plan simple food and a cake, and prepare one or two games.",
        ),
        (
            "Outline the steps to start a vegetable garden.",
            "Pick a sunny spot, prepare the soil, choose easy plants, water regularly and remove weeds.",
        ),
        (
            "Help me plan my morning routine.",
            "Wake up, drink water, stretch for five minutes, eat breakfast and review your day's plan.",
        ),
        (
            "Create a packing list for a business trip.",
            "Pack work clothes, chargers, laptop, documents, toiletries and comfortable shoes.",
        ),
        (
            "Plan a budget for a student with 800 dollars a month.",
            "Spend about 450 on rent, 150 on food, 60 on transport, 60 on other needs and save 80.",
        ),
        (
            "Give me steps to prepare for moving house.",
            "Declutter, collect boxes, pack room by room, label everything and book movers early.",
        ),
        ("Suggest a reading plan to finish a 300-page book in two weeks.", "Read about 22 pages every day."),
        (
            "Plan a family movie night.",
            "Pick a movie together, make popcorn, dim the lights and put away phones.",
        ),
        (
            "Outline the steps to write a research essay.",
            "Choose a topic, research sources, make an outline, write a draft and revise it.",
        ),
        (
            "Create a schedule for cleaning the house over a week.",
            "Monday kitchen, Tuesday bathroom, Wednesday laundry, Thursday dusting, Friday floors.",
        ),
        (
            "Help me plan a picnic in the park.",
            "Pack sandwiches, fruit, drinks, a blanket and a trash bag, and check the weather first.",
        ),
        (
            "Give me a plan to drink less coffee.",
            "Cut one cup each week and replace it with water or herbal tea.",
        ),
        (
            "Organize my day: I have a meeting at 10, gym at 6 and groceries to buy.",
            "Do focused work before 10, attend the meeting, buy groceries after lunch and go to the gym at 6.",
        ),
        (
            "Suggest steps for planning a wedding on a small budget.",
            "Keep the guest list short, choose an off-season date and pick a simple venue.",
        ),
        (
            "Plan a three-day trip to the mountains.",
            "Day one arrive and take a short hike, day two do a long trail, day three relax and travel home.",
        ),
    ],
}
