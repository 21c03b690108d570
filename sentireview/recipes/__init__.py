"""Named recipes: multi-step trainings with a typed config, run from the command line
(``sentireview train shipped``). They sit above training, prediction and evaluation."""
