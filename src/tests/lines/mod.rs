mod naive;
mod prop;
