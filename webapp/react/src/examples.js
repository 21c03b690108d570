// Four reviews written for this page: two easy ones and two that trip up word-counting models.
export const EXAMPLES = [
  {
    id: 'positive',
    title: 'Clearly positive',
    text:
      'I went in expecting a routine heist movie and came out grinning. The script is sharp, ' +
      'the three leads have real chemistry, and the last twenty minutes are as tense as anything ' +
      'I have seen this year. The music alone deserves an award. I would happily watch it again tomorrow.',
  },
  {
    id: 'negative',
    title: 'Clearly negative',
    text:
      'Two hours I will never get back. The plot lurches from one contrived coincidence to the ' +
      'next, the dialogue sounds as if it were written by a committee, and the lead delivers every ' +
      'line with the same bored frown. Even the effects look unfinished. Skip it, even when it ' +
      'turns up free on streaming.',
  },
  {
    id: 'sarcastic',
    title: 'Negation and sarcasm',
    text:
      "Oh, wonderful, another sequel nobody asked for. I was not bothered in the slightest that " +
      "the villain's plan made no sense, and I certainly did not check my watch every ten minutes. " +
      'If you have always wanted to see a brilliant cast wasted on a script this lazy, this is ' +
      'absolutely the film for you.',
  },
  {
    id: 'mixed',
    title: 'Mixed feelings',
    text:
      'The first half is a gorgeous, patient character study with a standout performance from ' +
      'the young lead, and the photography is stunning. Then the final act throws all of that away ' +
      "for a rushed, noisy chase that feels borrowed from another film. I'm glad I saw it, but I " +
      'left more frustrated than moved.',
  },
]
